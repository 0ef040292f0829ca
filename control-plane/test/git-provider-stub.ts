import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A stand-in for GitHub's, GitLab's and Gitea's REST APIs at their HTTP boundary: the routes the
// platform's clients call (commit statuses, pull request comments), written from the providers'
// API documentation, with each provider's authentication. It records every request, so a test
// can check what reached "the provider" and that the token only ever travelled in its header.

export type StubProvider = 'github' | 'gitlab' | 'gitea';

export interface StubRequest {
  method: string;
  /** The path, with the query string. */
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** What the stand-in answered. */
  status: number;
}

export interface ProviderStub {
  /** The API base to configure for the provider, e.g. http://127.0.0.1:PORT/api/v4 for GitLab. */
  apiUrl: string;
  requests: StubRequest[];
  /** The comments, by id, as the provider holds them now. */
  comments: Map<string, { pullRequest: string; body: string }>;
  /** Answers the next `n` requests with this status instead (a provider that is down). */
  failNext(n: number, status: number): void;
  stop(): Promise<void>;
}

const API_PREFIX: Record<StubProvider, string> = { github: '', gitlab: '/api/v4', gitea: '/api/v1' };

/** Whether the request carries the token the way the provider expects it. */
function authorised(provider: StubProvider, headers: IncomingHttpHeaders, token: string): boolean {
  switch (provider) {
    case 'github':
      return headers.authorization === `Bearer ${token}`;
    case 'gitlab':
      return headers['private-token'] === token;
    case 'gitea':
      return headers.authorization === `token ${token}`;
  }
}

const ROUTES: Record<StubProvider, { status: RegExp; create: RegExp; edit: RegExp; editMethod: string }> = {
  github: {
    status: /^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]{40}$/,
    create: /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/,
    edit: /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/,
    editMethod: 'PATCH',
  },
  gitea: {
    status: /^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]{40}$/,
    create: /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/,
    edit: /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/,
    editMethod: 'PATCH',
  },
  gitlab: {
    status: /^\/projects\/[^/]+\/statuses\/[0-9a-f]{40}$/,
    create: /^\/projects\/[^/]+\/merge_requests\/(\d+)\/notes$/,
    edit: /^\/projects\/[^/]+\/merge_requests\/(\d+)\/notes\/(\d+)$/,
    editMethod: 'PUT',
  },
};

export async function startProviderStub(provider: StubProvider, token: string): Promise<ProviderStub> {
  const requests: StubRequest[] = [];
  const comments = new Map<string, { pullRequest: string; body: string }>();
  let nextId = 1000;
  let failing = { n: 0, status: 500 };
  const routes = ROUTES[provider];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const answer = (status: number, json: unknown) => {
        requests.push({ method: req.method!, url: req.url!, headers: req.headers, body, status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      };
      if (failing.n > 0) {
        failing.n--;
        return answer(failing.status, { message: 'unavailable' });
      }
      if (!authorised(provider, req.headers, token)) return answer(401, { message: 'Bad credentials' });
      const prefix = API_PREFIX[provider];
      const path = (req.url ?? '').split('?')[0]!;
      if (!path.startsWith(prefix)) return answer(404, { message: 'Not Found' });
      const rest = path.slice(prefix.length);
      const text = (body as { body?: unknown } | undefined)?.body;
      if (req.method === 'POST' && routes.status.test(rest)) return answer(201, { id: nextId++ });
      const create = routes.create.exec(rest);
      if (req.method === 'POST' && create && typeof text === 'string') {
        const id = String(nextId++);
        comments.set(id, { pullRequest: create[1]!, body: text });
        return answer(201, { id: Number(id), body: text });
      }
      const edit = routes.edit.exec(rest);
      if (req.method === routes.editMethod && edit && typeof text === 'string') {
        const id = provider === 'gitlab' ? edit[2]! : edit[1]!;
        const held = comments.get(id);
        if (!held) return answer(404, { message: 'Not Found' });
        held.body = text;
        return answer(200, { id: Number(id), body: text });
      }
      return answer(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}${API_PREFIX[provider]}`,
    requests,
    comments,
    failNext(n, status) {
      failing = { n, status };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
