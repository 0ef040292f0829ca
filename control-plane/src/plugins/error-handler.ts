import { AppError, errorBody, fromZodError } from '@deploysphere/contracts';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ZodError } from 'zod';

/** Fastify's own client errors, mapped to our codes. Anything else unknown is a bug. */
const FASTIFY_CLIENT_ERRORS: Record<string, (err: FastifyError) => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new AppError(413, 'payload_too_large', 'Request body is too large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new AppError(415, 'unsupported_media_type', 'Send the body as application/json'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => AppError.badRequest('The JSON body is empty', 'body'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => AppError.badRequest('The body is not valid JSON', 'body'),
};

/** What each path parameter names, for the 404 a malformed one answers. */
const PATH_RESOURCES: Record<string, string> = { slug: 'Project', id: 'Deployment', hostname: 'Domain' };

/** Which part of a request failed its route's schema; Fastify tags the error with it. */
type ValidationContext = 'body' | 'querystring' | 'params' | 'headers';

/**
 * A request part that failed its zod schema. A path parameter that cannot exist answers 404, as
 * an unknown one does; anything else is a 400 naming the field by its dotted path, with the
 * part itself (`body`, `query`) as the field when the whole part is wrong.
 */
function fromValidation(err: ZodError, context: ValidationContext | undefined, params: unknown): AppError {
  if (context === 'params') {
    const field = String(err.issues[0]?.path[0] ?? 'params');
    const value = typeof params === 'object' && params !== null ? Reflect.get(params, field) : undefined;
    return AppError.notFound(`${PATH_RESOURCES[field] ?? 'Resource'} ${String(value)}`, field);
  }
  return fromZodError(err, 400, context === 'querystring' ? 'query' : (context ?? 'body'));
}

export function toAppError(err: unknown, params?: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) {
    const context = (err as ZodError & { validationContext?: ValidationContext }).validationContext;
    return fromValidation(err, context, params);
  }
  const fastifyError = err as FastifyError;
  const mapped = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
  if (mapped) return mapped(fastifyError);
  if (fastifyError instanceof SyntaxError && fastifyError.statusCode === 400) {
    return AppError.badRequest('The body is not valid JSON', 'body');
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    return new AppError(fastifyError.statusCode, 'bad_request', fastifyError.message);
  }
  // Everything else is a bug, a response that does not match its schema included.
  return AppError.internal('Unexpected error', err);
}

/** The control plane's single error mapping: user errors are answered, bugs are logged. */
export const errorHandler = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err, request, reply) => {
    const appError = toAppError(err, request.params);
    if (appError.expose) {
      request.log.info({ code: appError.code, field: appError.field }, appError.message);
    } else {
      request.log.error({ err: appError.cause ?? err }, 'request failed');
    }
    return reply.status(appError.status).send(errorBody(appError));
  });

  app.setNotFoundHandler((request, reply) => {
    const err = new AppError(404, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send(errorBody(err));
  });
});
