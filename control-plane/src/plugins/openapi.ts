import swagger, { type SwaggerTransform } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { ErrorBodySchema } from '@deploysphere/contracts';
import { z } from 'zod';
import { SESSION_COOKIE } from '../session/session.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';

type SecurityRequirements = Record<string, string[]>[];

/** Who may call a route; each route names its own (`security: []` for public ones). */
export const SECURITY: Record<'admin' | 'websocket' | 'edgeMetrics' | 'public', SecurityRequirements> = {
  /** The default for `/api/v1`: the admin token, or the dashboard's session cookie. */
  admin: [{ adminToken: [] }, { session: [] }],
  /** Websockets: browsers cannot set headers there, so `?token=` works too. */
  websocket: [{ adminToken: [] }, { session: [] }, { queryToken: [] }],
  edgeMetrics: [{ edgeMetricsToken: [] }],
  public: [],
};

/** Any route may answer an error; listed in each route's responses so the document shows its shape. */
export const ERROR_RESPONSES = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema };

/**
 * Route `config` for a websocket route. @fastify/websocket marks its routes hidden from the
 * document (an upgrade is not a plain GET); this documents the route anyway: its params, its
 * query and, as the 101 response, the messages it sends.
 */
export const DOCUMENTED_WEBSOCKET = {
  swaggerTransform: ((document) =>
    jsonSchemaTransform({
      ...document,
      schema: { ...document.schema, hide: false },
    })) satisfies SwaggerTransform,
};

/** Enough of the document to say what it is; the rest passes through as generated. */
const OpenApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

type JsonSchema = { type?: string | string[]; anyOf?: JsonSchema[] };

const acceptsNull = (schema: JsonSchema | undefined): boolean =>
  schema !== undefined &&
  ([schema.type].flat().includes('null') || (schema.anyOf ?? []).some((s) => acceptsNull(s)));

/**
 * @fastify/swagger marks every request body required. One whose schema accepts null may be left
 * out altogether (a redeploy's), so the document says so.
 */
function optionalNullableBodies<D extends { paths?: unknown }>(document: D): D {
  type Operation = {
    requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  };
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const body = operation.requestBody;
      if (body && acceptsNull(body.content?.['application/json']?.schema)) body.required = false;
    }
  }
  return document;
}

/**
 * The API as an OpenAPI 3.1 document at `GET /api/v1/openapi.json`, generated from the routes'
 * zod schemas, so it cannot drift from what the routes accept and answer. Register it before
 * any route: it collects them as they are added.
 */
export const openApi = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'DeploySphere API',
          version: '1',
          description:
            'Deploys frontend apps from Git and serves them at the edge. Errors are ' +
            '`{"error": {"code", "message", "field"?}}`; see docs/api.md.',
        },
        components: {
          securitySchemes: {
            adminToken: { type: 'http', scheme: 'bearer', description: 'DEPLOYSPHERE_ADMIN_TOKEN' },
            session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
            queryToken: { type: 'apiKey', in: 'query', name: 'token' },
            edgeMetricsToken: { type: 'http', scheme: 'bearer', description: 'EDGE_METRICS_TOKEN' },
          },
        },
        security: SECURITY.admin,
      },
      transform: jsonSchemaTransform,
      transformObject: (document) =>
        'openapiObject' in document ? optionalNullableBodies(document.openapiObject) : document.swaggerObject,
    });

    app.withTypeProvider<ZodTypeProvider>().get(
      OPENAPI_PATH,
      {
        schema: {
          summary: 'This document',
          tags: ['meta'],
          security: SECURITY.public,
          response: { 200: OpenApiDocumentSchema },
        },
      },
      async () => OpenApiDocumentSchema.parse(app.swagger()),
    );
  },
  { name: 'deploysphere-openapi', fastify: '5.x' },
);
