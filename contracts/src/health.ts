import { z } from 'zod';

/** `GET /healthz`: the process is up; it checks nothing else. */
export const HealthViewSchema = z.object({ ok: z.literal(true) });
export type HealthView = z.infer<typeof HealthViewSchema>;

/** One dependency's probe in `/readyz`. */
export const ReadinessCheckSchema = z.object({
  ok: z.boolean(),
  latencyMs: z.number().int().nonnegative(),
  error: z.string().optional(),
});
export type ReadinessCheck = z.infer<typeof ReadinessCheckSchema>;

/** `GET /readyz`: 200 when every dependency answered, 503 naming the ones that did not. */
export const ReadinessViewSchema = z.object({
  ok: z.boolean(),
  checks: z.record(z.string(), ReadinessCheckSchema),
  down: z.array(z.string()).optional(),
});
export type ReadinessView = z.infer<typeof ReadinessViewSchema>;
