import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Dashboard sessions without a sessions table: the cookie is `<expiry>.<nonce>.<mac>`, where the
 * MAC is an HMAC-SHA256 keyed by a key derived from the admin token. A valid, unexpired cookie
 * therefore vouches for the admin token itself, and rotating the token ends every session.
 */

export const SESSION_COOKIE = 'ds_session';
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

export interface SessionOptions {
  adminToken: string;
  /** Lifetime of a session; the dashboard asks for the token again afterwards. */
  maxAgeSeconds?: number;
  /**
   * `Secure` cookie attribute. `auto` sets it when the request arrived over https (directly, or as
   * Fastify's `trustProxy` reports it), so `npm start` on plain http still works.
   */
  secure?: boolean | 'auto';
  /** For tests: the clock, in milliseconds. */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the `session` plugin; absent where it is not registered (then no request has a session). */
    sessionSigner?: SessionSigner;
  }
}

/** Signs and verifies session cookie values. */
export class SessionSigner {
  private readonly key: Buffer;
  readonly maxAgeSeconds: number;
  readonly secure: boolean | 'auto';
  private readonly now: () => number;

  constructor(readonly options: SessionOptions) {
    // A derived key, so the MAC never doubles as anything else keyed by the raw token.
    this.key = createHmac('sha256', options.adminToken).update('deploysphere-session-v1').digest();
    this.maxAgeSeconds = options.maxAgeSeconds ?? SESSION_MAX_AGE_SECONDS;
    this.secure = options.secure ?? 'auto';
    this.now = options.now ?? Date.now;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  /** A fresh cookie value and when it expires. */
  issue(): { value: string; expiresAt: Date } {
    const expires = Math.floor(this.now() / 1000) + this.maxAgeSeconds;
    // The nonce makes every session's value distinct, so two sign-ins never share a cookie.
    const payload = `${expires}.${randomBytes(12).toString('base64url')}`;
    return { value: `${payload}.${this.mac(payload)}`, expiresAt: new Date(expires * 1000) };
  }

  /** When a genuine, unexpired value expires; undefined for anything else. */
  verify(value: string | undefined): Date | undefined {
    if (!value || value.length > 256) return undefined;
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match) return undefined;
    const payload = `${match[1]}.${match[2]}`;
    const expected = Buffer.from(this.mac(payload));
    const presented = Buffer.from(match[3]!);
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return undefined;
    const expires = Number(match[1]) * 1000;
    return expires > this.now() ? new Date(expires) : undefined;
  }

  get adminToken(): string {
    return this.options.adminToken;
  }
}

function signerOf(request: FastifyRequest): SessionSigner | undefined {
  return request.server.sessionSigner;
}

/** The session cookie's raw value, whichever kind of session it holds. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  // request.cookies exists only where @fastify/cookie's hook ran; parse the header otherwise, so
  // this works whatever order the plugins were registered in.
  const parsed = request.cookies ?? fastifyCookie.parse(request.headers.cookie ?? '');
  return parsed[SESSION_COOKIE];
}

/** When the request's session expires, if it carries a valid one. */
export function sessionExpiry(request: FastifyRequest): Date | undefined {
  return signerOf(request)?.verify(sessionCookie(request));
}

/**
 * The token the request's session cookie vouches for (the admin token), or undefined when there
 * is no valid, unexpired session cookie. The /api/v1 auth hook accepts it like a bearer token.
 */
export function sessionToken(request: FastifyRequest): string | undefined {
  const signer = signerOf(request);
  if (!signer) return undefined;
  return signer.verify(sessionCookie(request)) ? signer.adminToken : undefined;
}

function isSecure(signer: SessionSigner, request: FastifyRequest): boolean {
  return signer.secure === 'auto' ? request.protocol === 'https' : signer.secure;
}

/** Sets a fresh admin-token session cookie on the reply; returns when it expires. */
export function startSession(request: FastifyRequest, reply: FastifyReply): Date {
  const signer = signerOf(request);
  if (!signer) throw new Error('the session plugin is not registered');
  const { value, expiresAt } = signer.issue();
  setSessionCookie(request, reply, value, signer.maxAgeSeconds);
  return expiresAt;
}

/** Sets the session cookie (an admin-token session's or a user's) with the one set of attributes. */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  value: string,
  maxAgeSeconds: number,
): void {
  const signer = signerOf(request);
  if (!signer) throw new Error('the session plugin is not registered');
  reply.setCookie(SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: isSecure(signer, request),
    maxAge: maxAgeSeconds,
  });
}

/** Tells the browser to drop the session cookie. */
export function endSession(request: FastifyRequest, reply: FastifyReply): void {
  const signer = signerOf(request);
  reply.clearCookie(SESSION_COOKIE, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: signer ? isSecure(signer, request) : false,
  });
}

/**
 * Cookie parsing and the session signer for the whole instance (fastify-plugin, so it is not
 * encapsulated). Register it once, at the root, before the routes that read sessions.
 */
export const session = fp(
  async (app: FastifyInstance, opts: SessionOptions) => {
    if (!app.hasDecorator('parseCookie')) await app.register(fastifyCookie);
    app.decorate('sessionSigner', new SessionSigner(opts));
  },
  { name: 'deploysphere-session', fastify: '5.x' },
);
