import { AppError } from '@deploysphere/contracts';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorHandler } from './error-handler.js';

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
});
