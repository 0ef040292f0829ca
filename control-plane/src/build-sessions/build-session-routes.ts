import {
  BUILD_SESSION_PATHS,
  BuildSessionParamsSchema,
  CacheRestoreRequestSchema,
  CacheSaveRequestSchema,
  UploadGrantsRequestSchema,
} from '@deploysphere/contracts';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { BuildSessionService } from './build-session-service.js';

export interface BuildSessionRoutesOptions {
  sessions: BuildSessionService;
}

/**
 * An upload-grants request lists every distinct blob of the output: 20,000 files are about
 * 2.6 MB of JSON, MAX_GRANT_BLOBS about 13 MB.
 */
export const GRANTS_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** `Authorization: Bearer <token>` only; never a query string, which access logs keep. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
}

/**
 * The routes a build worker calls (contracts/src/build-session.ts). Internal: not in the public
 * API document, and authenticated by the build's own tokens, never the admin token. Errors are
 * AppErrors with stable codes (BUILD_SESSION_ERRORS), answered by the app's error handler.
 */
export const buildSessionRoutes: FastifyPluginAsyncZod<BuildSessionRoutesOptions> = async (app, options) => {
  const { sessions } = options;
  // Before the body is read: an unauthenticated caller never gets a 16 MB body parsed.
  const authorized = {
    onRequest: async (request: FastifyRequest) => {
      const { deploymentId } = request.params as { deploymentId?: string };
      await sessions.authorize(bearer(request), deploymentId ?? '');
    },
  };

  app.post(BUILD_SESSION_PATHS.bootstrap, { schema: { hide: true } }, async (request) =>
    sessions.bootstrap(bearer(request)),
  );

  app.post(
    BUILD_SESSION_PATHS.uploadGrants(':deploymentId'),
    {
      ...authorized,
      bodyLimit: GRANTS_BODY_LIMIT_BYTES,
      schema: { hide: true, params: BuildSessionParamsSchema, body: UploadGrantsRequestSchema },
    },
    async (request) =>
      sessions.uploadGrants(bearer(request), request.params.deploymentId, request.body.blobs),
  );

  app.post(
    BUILD_SESSION_PATHS.cacheRestore(':deploymentId'),
    {
      ...authorized,
      schema: { hide: true, params: BuildSessionParamsSchema, body: CacheRestoreRequestSchema },
    },
    async (request) => sessions.cacheRestore(bearer(request), request.params.deploymentId, request.body.key),
  );

  app.post(
    BUILD_SESSION_PATHS.cacheSave(':deploymentId'),
    { ...authorized, schema: { hide: true, params: BuildSessionParamsSchema, body: CacheSaveRequestSchema } },
    async (request) => sessions.cacheSave(bearer(request), request.params.deploymentId, request.body),
  );
};
