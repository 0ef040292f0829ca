import type { CreatedInvitation, CreatedToken, CreateTokenBody, MeView } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { FastifyInstance } from 'fastify';
import { newId } from '../src/ids.js';

/** How a test caller authenticates: request headers (a bearer token, a session cookie, or none). */
export interface Caller {
  authorization?: string;
  cookie?: string;
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
  setCookie: string | undefined;
}

/** `/api/v1` calls as different callers, through `inject`, and the account set-up tests need. */
export class AccountsClient {
  constructor(private readonly app: FastifyInstance) {}

  bearer(token: string): Caller {
    return { authorization: `Bearer ${token}` };
  }

  async call<T = unknown>(caller: Caller, method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const res = await this.app.inject({
      method: method as 'GET',
      url: `/api/v1${path}`,
      headers: { ...caller, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    const header = res.headers['set-cookie'];
    const setCookie = (Array.isArray(header) ? header[0] : header)?.split(';')[0];
    return {
      status: res.statusCode,
      body: res.body ? (JSON.parse(res.body) as T) : (undefined as T),
      setCookie,
    };
  }

  /** A call that must answer `status` (any 2xx when omitted); fails with the real answer otherwise. */
  async expect<T = unknown>(caller: Caller, method: string, path: string, body?: unknown, status?: number) {
    const res = await this.call<T>(caller, method, path, body);
    const ok = status === undefined ? res.status >= 200 && res.status < 300 : res.status === status;
    if (!ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  }

  /** Invites `email` into `team` as `by`, accepts it, and returns the new user's session. */
  async invitedUser(
    by: Caller,
    team: string,
    email: string,
    role: string,
    password = 'a long enough password',
  ): Promise<Caller> {
    const inv = await this.expect<CreatedInvitation>(
      by,
      'POST',
      `/teams/${team}/invitations`,
      { email, role },
      201,
    );
    const accepted = await this.expect({}, 'POST', '/invitations/accept', {
      token: inv.body.acceptToken,
      name: email.split('@')[0],
      password,
    });
    if (!accepted.setCookie) throw new Error('accepting an invitation set no session cookie');
    return { cookie: accepted.setCookie };
  }

  async me(caller: Caller): Promise<MeView> {
    return (await this.expect<MeView>(caller, 'GET', '/me')).body;
  }

  async token(caller: Caller, body: CreateTokenBody): Promise<string> {
    return (await this.expect<CreatedToken>(caller, 'POST', '/tokens', body, 201)).body.token;
  }

  /** A finished deployment row of `slug`, written directly: authorisation tests need one to exist, not a build. */
  async insertDeployment(db: Db, slug: string): Promise<string> {
    const project = await db.project.findUniqueOrThrow({ where: { slug } });
    const id = newId();
    await db.deployment.create({
      data: { id, projectId: project.id, status: 'error', error: 'test fixture', regions: project.regions },
    });
    return id;
  }
}
