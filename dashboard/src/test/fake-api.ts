import { vi } from 'vitest';

/** One request the page made, as the fake API saw it. */
export interface ApiCall {
  method: string;
  /** Path under `/api/v1`, e.g. `/projects/web`. */
  path: string;
  search: URLSearchParams;
  body: unknown;
}

/** An answer: a body for 200, or an explicit status and body. */
export type ApiAnswer = { status: number; body?: unknown } | { body: unknown };
type Handler = (call: ApiCall) => ApiAnswer | Promise<ApiAnswer>;

export const ok = (body: unknown): ApiAnswer => ({ body });

/**
 * Stubs `fetch` with a table of `"METHOD /path"` handlers (the path under `/api/v1`, without the
 * query string) and records every call. Anything else answers the control plane's 404.
 */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: ApiCall[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const url = new URL(input, 'http://dashboard.test');
      const call: ApiCall = {
        method: init?.method ?? 'GET',
        path: url.pathname.replace(/^\/api\/v1/, ''),
        search: url.searchParams,
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
      };
      calls.push(call);
      const handler = routes[`${call.method} ${call.path}`];
      const answer = handler
        ? await handler(call)
        : { status: 404, body: { error: { code: 'not_found', message: 'No route' } } };
      const status = 'status' in answer ? answer.status : 200;
      return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    }),
  );
  return {
    calls,
    /** The calls to one `"METHOD /path"`. */
    callsTo: (route: string) => calls.filter((c) => `${c.method} ${c.path}` === route),
  };
}

/** `GET /me` for the admin token: owner of the default team, every scope. */
export const ROOT_ME = {
  kind: 'root',
  user: null,
  teams: [
    { id: 'team_default', slug: 'default', name: 'Default', role: 'owner', maxProjects: null, projects: 0 },
  ],
  scopes: ['read', 'deploy', 'admin'],
};

/** The routes every signed-in page needs. */
export const SIGNED_IN: Record<string, Handler> = {
  'GET /session': () => ok({ signedIn: true, expiresAt: '2026-11-22T22:00:00.000Z' }),
  'GET /me': () => ok(ROOT_ME),
  'GET /regions': () => ok([]),
  'GET /sites': () => ok({ rootDomain: 'localhost', urlPattern: 'http://<slug>.localhost:8787' }),
};
