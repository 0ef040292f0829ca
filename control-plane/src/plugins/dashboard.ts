import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Serves the dashboard's built files at `/`. Client-side routes get index.html, but only for
 * navigations: a missing script or API path still answers 404.
 */
export const dashboard = fp(async (app: FastifyInstance, opts: { root: string }) => {
  if (!existsSync(opts.root)) {
    app.log.warn({ root: opts.root }, 'dashboard is not built; run npm install to build it');
    return;
  }
  await app.register(fastifyStatic, { root: opts.root, wildcard: false, index: 'index.html' });
  // Not part of the API, so left out of its OpenAPI document.
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const accept = request.headers.accept ?? '';
    const path = request.url.split('?')[0] ?? '/';
    if (!accept.includes('text/html') || path.startsWith('/api/') || /\.[a-z0-9]+$/i.test(path)) {
      return reply.callNotFound();
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
});
