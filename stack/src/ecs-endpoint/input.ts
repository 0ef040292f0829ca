import type { z } from 'zod';
import { invalidParameter } from './errors.js';

/**
 * Parses a request body against an operation's schema. ECS answers a malformed request with
 * InvalidParameterException naming the field, which is what the SDK surfaces to callers.
 * Schemas are loose: ECS accepts many members the endpoint does not act on.
 */
export function parseInput<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'request';
  throw invalidParameter(`${where}: ${issue.message}`);
}

/** JSON with object keys sorted, so two requests compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
