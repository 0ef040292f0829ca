import { z } from 'zod';

/**
 * The one error type every DeploySphere server throws. `expose` separates user errors (4xx: the
 * message is safe and useful to send back) from bugs and outages (5xx: logged, never sent).
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly field: string | undefined;
  readonly expose: boolean;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { field?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.expose = status < 500;
  }

  static badRequest(message: string, field?: string): AppError {
    return new AppError(400, 'bad_request', message, { field });
  }

  static validation(message: string, field?: string): AppError {
    return new AppError(422, 'validation_failed', message, { field });
  }

  static unauthorized(message = 'A valid API token is required'): AppError {
    return new AppError(401, 'unauthorized', message);
  }

  /** Signed in, allowed to see the resource, but not to do this to it (a role or a token scope). */
  static forbidden(message: string): AppError {
    return new AppError(403, 'forbidden', message);
  }

  static notFound(what: string, field?: string): AppError {
    return new AppError(404, 'not_found', `${what} not found`, { field });
  }

  static conflict(message: string, field?: string): AppError {
    return new AppError(409, 'conflict', message, { field });
  }

  static unavailable(message: string, cause?: unknown): AppError {
    return new AppError(503, 'unavailable', message, { cause });
  }

  static internal(message: string, cause?: unknown): AppError {
    return new AppError(500, 'internal', message, { cause });
  }
}

/** A zod error message that tells a missing value apart from a wrong one. */
export const requiredOr =
  (expected: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : expected;

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** The body a server sends for an error; a bug's details never leave the process. */
export function errorBody(err: AppError): ErrorBody {
  if (!err.expose) return { error: { code: err.code, message: 'Internal error' } };
  return {
    error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) },
  };
}

/** Turns the first zod issue into a 4xx that names the offending field by its dotted path. */
export function fromZodError(error: z.ZodError, status = 400, rootField = 'body'): AppError {
  const issue = error.issues[0];
  if (!issue) return new AppError(status, 'bad_request', 'Invalid input', { field: rootField });
  const path = issue.path.map(String);
  // An unknown field is named by its own key, not by the object that holds it.
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    const field = [...path, issue.keys[0]].join('.');
    return new AppError(status, 'unknown_field', `${field}: is not a known field`, { field });
  }
  const field = path.length > 0 ? path.join('.') : rootField;
  return new AppError(
    status,
    status === 400 ? 'bad_request' : 'validation_failed',
    `${field}: ${issue.message}`,
    {
      field,
    },
  );
}
