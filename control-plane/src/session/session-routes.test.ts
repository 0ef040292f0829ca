import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '@deploysphere/contracts';
import { tokenMatches, bearerToken } from '../plugins/auth.js';
import { errorHandler } from '../plugins/error-handler.js';
import { zodSchemas } from '../plugins/zod-schemas.js';
import { SESSION_COOKIE, SessionSigner, session, sessionToken } from './session.js';
import { sessionRoutes, type UserSessions } from './session-routes.js';

const TOKEN = 'dsk_test_admin_token_0123456789';
/** No user accounts here: these tests cover the admin token's sessions (accounts-routes.test covers users). */
const NO_USERS: UserSessions = {
  signIn: async () => {
    throw AppError.unauthorized();
  },
  signOut: async () => undefined,
  sessionExpiry: async () => undefined,
};
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** Wired the way app.ts does it: session at the root, its routes outside the auth hook. */
async function build(opts: { now?: () => number; secure?: boolean | 'auto' } = {}) {
  const app = Fastify();
  apps.push(app);
  await app.register(zodSchemas);
  await app.register(errorHandler);
  await app.register(session, { adminToken: TOKEN, ...opts });
  await app.register(sessionRoutes, { prefix: '/api/v1', adminToken: TOKEN, accounts: NO_USERS });
  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request) => {
        const presented = bearerToken(request) ?? sessionToken(request);
        if (!presented || !tokenMatches(presented, TOKEN)) throw AppError.unauthorized();
      });
      api.get('/projects', async () => []);
    },
    { prefix: '/api/v1' },
  );
  return app;
}

const cookieOf = (setCookie: string | string[] | undefined) => {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  return header?.split(';')[0] ?? '';
};

describe('session routes', () => {
  it('trade the API token for an httpOnly, SameSite=Strict cookie that the API accepts', async () => {
    const app = await build();
    const signIn = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: TOKEN } });
    expect(signIn.statusCode).toBe(200);
    expect(signIn.json()).toMatchObject({ signedIn: true, expiresAt: expect.any(String) });
    const header = String(signIn.headers['set-cookie']);
    expect(header).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(header).toContain('HttpOnly');
    expect(header).toContain('SameSite=Strict');
    expect(header).toContain('Path=/');
    expect(header).toContain('Max-Age=43200');
    // Plain http (npm start): not Secure, or the browser would never send it back.
    expect(header).not.toContain('Secure');
    expect(header).not.toContain(TOKEN);

    const cookie = cookieOf(signIn.headers['set-cookie']);
    const api = await app.inject({ url: '/api/v1/projects', headers: { cookie } });
    expect(api.statusCode).toBe(200);
    const state = await app.inject({ url: '/api/v1/session', headers: { cookie } });
    expect(state.json()).toMatchObject({ signedIn: true });
  });

  it('refuse a wrong token with the API error shape and set no cookie', async () => {
    const app = await build();
    const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: 'nope' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: { code: 'unauthorized', message: 'That API token is not valid', field: 'token' },
    });
    expect(res.headers['set-cookie']).toBeUndefined();
    const missing = await app.inject({ method: 'POST', url: '/api/v1/session', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({ field: 'token', message: 'token: is required' });
  });

  it('answer GET /session with 200 when signed out, and are reachable without a bearer token', async () => {
    const app = await build();
    const res = await app.inject({ url: '/api/v1/session' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ signedIn: false, expiresAt: null });
    expect((await app.inject({ url: '/api/v1/projects' })).statusCode).toBe(401);
  });

  it('sign out by expiring the cookie', async () => {
    const app = await build();
    const res = await app.inject({ method: 'DELETE', url: '/api/v1/session' });
    expect(res.statusCode).toBe(204);
    const header = String(res.headers['set-cookie']);
    expect(header).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));
    expect(header).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
  });

  it('refuse tampered, foreign and expired cookies', async () => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const app = await build({ now: () => now });
    const signIn = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: TOKEN } });
    const cookie = cookieOf(signIn.headers['set-cookie']);
    const value = cookie.slice(SESSION_COOKIE.length + 1);
    const [expires, nonce, mac] = value.split('.');

    const tries = [
      `${Number(expires) + 3600}.${nonce}.${mac}`, // a longer life, same MAC
      `${expires}.${nonce}.${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`,
      new SessionSigner({ adminToken: 'another_admin_token_abcdef' }).issue().value,
      'garbage',
    ];
    for (const forged of tries) {
      const res = await app.inject({
        url: '/api/v1/projects',
        headers: { cookie: `${SESSION_COOKIE}=${forged}` },
      });
      expect(res.statusCode, forged).toBe(401);
    }

    expect((await app.inject({ url: '/api/v1/projects', headers: { cookie } })).statusCode).toBe(200);
    now += 12 * 60 * 60 * 1000 + 1000;
    expect((await app.inject({ url: '/api/v1/projects', headers: { cookie } })).statusCode).toBe(401);
  });

  it('mark the cookie Secure when asked to', async () => {
    const app = await build({ secure: true });
    const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: TOKEN } });
    expect(String(res.headers['set-cookie'])).toContain('Secure');
  });
});
