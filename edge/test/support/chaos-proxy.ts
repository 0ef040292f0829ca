import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** pass: forward to the origin; error: answer 503; hang: accept and never answer; reset: drop the connection. */
export type ChaosMode = 'pass' | 'error' | 'hang' | 'reset';

export interface ChaosProxy {
  endpoint: string;
  mode: ChaosMode;
  /** Requests received, by path, so tests can see which origin was asked. */
  readonly hits: string[];
  stop(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of one region's s3rver that can be told to fail the way real
 * origins fail. Headers pass through untouched, so SigV4 signatures stay valid.
 */
export async function startChaosProxy(upstream: string): Promise<ChaosProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const state: { mode: ChaosMode; hits: string[] } = { mode: 'pass', hits: [] };
  const server: Server = createServer((req, res) => {
    state.hits.push(req.url ?? '');
    if (state.mode === 'hang') return;
    if (state.mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (state.mode === 'error') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('injected failure');
      return;
    }
    const upstreamReq = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    // The origin is gone (stopped mid-test): the edge must see a network error, as it would in production.
    upstreamReq.on('error', () => req.socket.destroy());
    req.pipe(upstreamReq);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: ChaosMode) {
      state.mode = mode;
    },
    hits: state.hits,
    async stop() {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
