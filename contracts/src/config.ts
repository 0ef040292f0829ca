import { z } from 'zod';

/** A configuration problem: the message names the variable and what was expected. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses a service's environment once. Every problem is reported in one readable message,
 * one line per variable, so an operator fixes them all in one go.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  service: string,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.map(String).join('.') || '(environment)';
    const got = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
    return `  ${name}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(truncate(got))})`}`;
  });
  throw configError(service, lines);
}

/** The one message format for configuration problems: a heading, then one line per variable. */
export function configError(service: string, lines: string[]): ConfigError {
  return new ConfigError(`Invalid ${service} configuration:\n${lines.join('\n')}`);
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

/** Environment values are strings: these coerce them with messages that say what was expected. */
export const envPort = (fallback: number) =>
  z.coerce
    .number({ error: 'expected a port number' })
    .int('expected a whole port number')
    .min(0, 'expected a port between 0 and 65535')
    .max(65535, 'expected a port between 0 and 65535')
    .default(fallback);

export const envBoolean = (fallback: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no'], { error: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === '1' || v === 'true' || v === 'yes');

export const envInt = (fallback: number, min = 0) =>
  z.coerce
    .number({ error: 'expected a number' })
    .int('expected a whole number')
    .min(min, `expected at least ${min}`)
    .default(fallback);

/** An optional URL with one of the listed schemes (without ':'); empty strings count as unset. */
export const envUrl = (schemes: string[]) =>
  z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .url({
        protocol: new RegExp(`^(?:${schemes.join('|')})$`),
        error: `expected a URL starting with ${schemes.map((p) => `${p}://`).join(' or ')}`,
      })
      .optional(),
  );
