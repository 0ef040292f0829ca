import {
  AppError,
  CreateProjectBodySchema,
  ProjectParamsSchema,
  ProjectsQuerySchema,
} from '@deploysphere/contracts';
import Fastify from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorHandler } from './error-handler.js';
import { zodSchemas } from './zod-schemas.js';

const apps: ReturnType<typeof Fastify>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function build() {
  const app = Fastify({ bodyLimit: 64 });
  apps.push(app);
  await app.register(errorHandler);
  app.post('/echo', async (request) => request.body);
  app.get('/user-error', async () => {
    throw AppError.validation('slug: is reserved', 'slug');
  });
  app.get('/zod', async () => z.object({ slug: z.string() }).parse({ slug: 1 }));
  app.get('/bug', async () => {
    throw new Error('secret database password in a stack trace');
  });
  return app;
}

/** Routes that declare their parts with the contracts' schemas, as the control plane's do. */
async function buildWithSchemas() {
  const app = Fastify().withTypeProvider<ZodTypeProvider>();
  apps.push(app);
  await app.register(zodSchemas);
  await app.register(errorHandler);
  app.get('/projects', { schema: { querystring: ProjectsQuerySchema } }, async (request) => request.query);
  app.post('/projects', { schema: { body: CreateProjectBodySchema } }, async (request) => request.body.slug);
  app.get('/projects/:slug', { schema: { params: ProjectParamsSchema } }, async (request) => request.params);
  app.get(
    '/mismatch',
    { schema: { response: { 200: z.object({ count: z.number() }) } } },
    // A bug the response schema catches: the wrong type, and a secret that must not leak.
    async () => ({ count: 'secret-token' }) as never,
  );
  return app;
}

describe('error handler', () => {
  it('answers user errors with their code, message and field', async () => {
    const res = await (await build()).inject('/user-error');
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      error: { code: 'validation_failed', message: 'slug: is reserved', field: 'slug' },
    });
  });

  it('turns a zod failure into a 400 naming the field', async () => {
    const res = await (await build()).inject('/zod');
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'bad_request', field: 'slug' });
  });

  it('hides a bug behind a generic 500', async () => {
    const res = await (await build()).inject('/bug');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'internal', message: 'Internal error' } });
    expect(res.body).not.toContain('secret');
  });

  it('maps oversize and malformed bodies to 413 and 400', async () => {
    const app = await build();
    const big = await app.inject({ method: 'POST', url: '/echo', payload: { x: 'y'.repeat(100) } });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('payload_too_large');
    const bad = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"x":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ field: 'body' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await (await build()).inject('/nope?x=1');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'No route for GET /nope' } });
  });

  it('answers a malformed path parameter with 404, as an unknown one', async () => {
    const res = await (await buildWithSchemas()).inject('/projects/Not_A_Slug');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'not_found', message: 'Project Not_A_Slug not found', field: 'slug' },
    });
  });

  it('names a bad query parameter, and an unknown one by its own name', async () => {
    const app = await buildWithSchemas();
    const long = await app.inject(`/projects?slug=${'x'.repeat(65)}`);
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({ code: 'bad_request', field: 'slug' });
    const unknown = await app.inject('/projects?admin=1');
    expect(unknown.json().error).toEqual({
      code: 'unknown_field',
      message: 'admin: is not a known field',
      field: 'admin',
    });
  });

  it('names a bad body field by its dotted path, and the body when it is not an object', async () => {
    const app = await buildWithSchemas();
    const good = { slug: 'my-site', repoUrl: 'https://example.com/a.git', regions: ['eu-west-1'] };
    const post = (payload: unknown) =>
      app.inject({ method: 'POST', url: '/projects', payload: payload as object });
    const env = await post({ ...good, env: { KEY: 42 } });
    expect(env.statusCode).toBe(400);
    expect(env.json().error).toMatchObject({ code: 'bad_request', field: 'env.KEY' });
    expect(env.json().error.message).toMatch(/^env\.KEY: /);
    const list = await post([good]);
    expect(list.json().error).toMatchObject({ code: 'bad_request', field: 'body' });
    expect((await post(good)).body).toBe('my-site');
  });

  it('turns a response that does not match its schema into a logged 500 that shows nothing', async () => {
    const res = await (await buildWithSchemas()).inject('/mismatch');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'internal', message: 'Internal error' } });
    expect(res.body).not.toContain('secret');
  });
});
