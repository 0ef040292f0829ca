import { z } from 'zod';
import { requiredOr } from './errors.js';

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
 *
 * The message names the variable and says what was expected, but never quotes its value: many
 * values are secrets (ENV_ENCRYPTION_KEY, DEPLOYSPHERE_ADMIN_TOKEN, a DATABASE_URL with its
 * password), and the message goes to logs. Never echoing anything is the rule that cannot be
 * forgotten when a new secret variable is added.
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
    return `  ${name}: ${issue.message}`;
  });
  throw configError(service, lines);
}

/** The one message format for configuration problems: a heading, then one line per variable. */
export function configError(service: string, lines: string[]): ConfigError {
  return new ConfigError(`Invalid ${service} configuration:\n${lines.join('\n')}`);
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

const emptyIsUnset = (v: unknown) => (v === '' ? undefined : v);

const urlWithScheme = (schemes: string[]) =>
  z.url({
    protocol: new RegExp(`^(?:${schemes.join('|')})$`),
    error: requiredOr(`expected a URL starting with ${schemes.map((p) => `${p}://`).join(' or ')}`),
  });

/** An optional URL with one of the listed schemes (without ':'); empty strings count as unset. */
export const envUrl = (schemes: string[]) => z.preprocess(emptyIsUnset, urlWithScheme(schemes).optional());

/** A required URL with one of the listed schemes; unset or empty is "is required". */
export const envRequiredUrl = (schemes: string[]) => z.preprocess(emptyIsUnset, urlWithScheme(schemes));

/** A required, non-empty string; `why` says what it is for when it is missing. */
export const envRequiredString = (why?: string) =>
  z.preprocess(
    emptyIsUnset,
    z.string({
      error: (issue) =>
        issue.input === undefined ? (why ? `is required (${why})` : 'is required') : 'expected a string',
    }),
  );
