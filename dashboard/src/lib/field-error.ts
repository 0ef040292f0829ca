import type { z } from 'zod';

/** The first message the contract's schema gives for a value, for live validation under a field. */
export function fieldError(schema: z.ZodType, value: unknown): string | undefined {
  const result = schema.safeParse(value);
  return result.success ? undefined : result.error.issues[0]?.message;
}
