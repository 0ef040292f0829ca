import type { z } from 'zod';

/** Validates a NATS message body against its contract; malformed JSON is just another failure. */
export function parseMessage<S extends z.ZodType>(
  schema: S,
  text: string,
): z.ZodSafeParseResult<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return schema.safeParse(json);
}
