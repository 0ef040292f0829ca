import { AppError, fromZodError } from '@deploysphere/contracts';
import type { z } from 'zod';

/** Validates a request part against its contract; failures are 400s that name the field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, rootField = 'body'): z.output<S> {
  const result = schema.safeParse(value ?? (rootField === 'body' ? undefined : {}));
  if (!result.success) throw fromZodError(result.error, 400, rootField);
  return result.data;
}

/** Path ids that cannot exist answer 404, not 400: to a client they are just unknown resources. */
export function pathParam(schema: z.ZodType, value: string, what: string, field: string): string {
  if (!schema.safeParse(value).success) throw AppError.notFound(what, field);
  return value;
}
