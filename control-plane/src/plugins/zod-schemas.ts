import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import fp from 'fastify-plugin';
import { serializerCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';

/**
 * Validates a request part against its zod schema. Unlike the type provider's own compiler, it
 * hands Fastify the ZodError itself (Fastify tags it with `validationContext`), so the error
 * handler names the field by its exact path: the provider's copy joins the path with `/`, which
 * an env key or a header name may contain.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: result.error };
  };

/**
 * Routes describe their params, querystring, body and responses with the zod schemas in
 * contracts/: requests are parsed by them (handlers get the parsed, typed values) and responses
 * are checked against them (a response that does not match is a bug: 500, logged). Registered
 * with fastify-plugin, so it applies to the instance that registers it and everything below.
 */
export const zodSchemas = fp(
  async (app: FastifyInstance) => {
    app.setValidatorCompiler(zodValidatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
  },
  { name: 'deploysphere-zod-schemas', fastify: '5.x' },
);
