import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { LogSink } from '../log-sink.js';
import type { EgressPolicy } from './egress-policy.js';

/** Resolves a name to every address it has; injectable so tests can play a rebinding resolver. */
export type Resolver = (hostname: string) => Promise<string[]>;

export interface EgressProxyOptions {
  /** The Unix socket to listen on; it is bound into the sandbox, which has no other way out. */
  socketPath: string;
  policy: EgressPolicy;
  /** Each host reached, and each refusal, is written here as a system line. */
  logs: LogSink;
  resolve?: Resolver;
  connectTimeoutMs?: number;
  /** Tunnels open at once; a build that opens more gets 503s rather than exhausting the worker. */
  maxConnections?: number;
}

export interface EgressProxyStats {
  tunnels: number;
  refused: number;
  /** `host:port` of every destination reached. */
  reached: Set<string>;
}

export interface EgressProxy {
  readonly socketPath: string;
  readonly stats: EgressProxyStats;
  /** Stops listening and cuts every open tunnel. */
  close(): Promise<void>;
}

/** Refusals logged one by one before they are only counted, so a retry loop cannot flood the log. */
const MAX_REFUSAL_LINES = 20;
const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;
/** Headers that describe one hop and must not be forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const defaultResolve: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * An HTTP proxy for one build, outside its sandbox: CONNECT tunnels (HTTPS, git over HTTPS) and
 * absolute-form requests (plain HTTP). It resolves each name itself, refuses the whole name when
 * any of its addresses is denied, and connects to the checked IP literal, so what was checked is
 * what is reached.
 */
export async function startEgressProxy(opts: EgressProxyOptions): Promise<EgressProxy> {
  const resolve = opts.resolve ?? defaultResolve;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 30_000;
  const maxConnections = opts.maxConnections ?? 256;
  const stats: EgressProxyStats = { tunnels: 0, refused: 0, reached: new Set() };
  const open = new Set<Duplex>();
  let refusalLines = 0;

  const track = (socket: Duplex) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const refuse = (target: string, reason: string) => {
    stats.refused += 1;
    if (refusalLines < MAX_REFUSAL_LINES) {
      refusalLines += 1;
      opts.logs.write('system', `Egress refused: ${target}: ${reason}`);
    }
  };

  /** The checked addresses of host:port, in the resolver's order. Throws Refused. */
  const destination = async (host: string, port: number): Promise<string[]> => {
    const target = `${host}:${port}`;
    const fail = (status: number, reason: string): never => {
      refuse(target, reason);
      throw new Refused(status, `DeploySphere build sandbox: ${target} is not reachable: ${reason}\n`);
    };
    if (!opts.policy.ports.has(port)) {
      fail(403, `port ${port} is closed to builds (open: ${[...opts.policy.ports].join(', ')})`);
    }
    let addresses: string[];
    if (isIP(host)) {
      addresses = [host];
    } else {
      if (!HOSTNAME.test(host)) fail(400, 'not a valid host name');
      try {
        addresses = await resolve(host);
      } catch (err) {
        return fail(502, `the name did not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (addresses.length === 0) fail(502, 'the name has no addresses');
    }
    for (const address of addresses) {
      const reason = opts.policy.refusal(address);
      if (reason) fail(403, host === address ? reason : `it resolves to ${address}, ${reason}`);
    }
    return addresses;
  };

  const noteReached = (host: string, port: number, address: string) => {
    const key = `${host}:${port}`;
    if (stats.reached.has(key)) return;
    stats.reached.add(key);
    opts.logs.write('system', `Egress: ${key}${host === address ? '' : ` (${address})`}`);
  };

  /** Connects to the first address that answers. */
  const dial = async (addresses: string[], port: number): Promise<{ socket: Socket; address: string }> => {
    let last: Error | undefined;
    for (const address of addresses) {
      try {
        const socket = await new Promise<Socket>((ok, fail) => {
          const s = connect({ host: address, port, timeout: connectTimeoutMs });
          s.once('connect', () => {
            s.setTimeout(0);
            ok(s);
          });
          s.once('timeout', () => s.destroy(new Error('connect timed out')));
          s.once('error', fail);
        });
        socket.setNoDelay(true);
        return { socket, address };
      } catch (err) {
        last = err as Error;
      }
    }
    throw new Refused(
      502,
      `DeploySphere build sandbox: could not connect: ${last?.message ?? 'no address'}\n`,
    );
  };

  const onConnect = async (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const reply = (status: number, text: string) =>
      client.end(
        `HTTP/1.1 ${status} ${status === 200 ? 'Connection Established' : 'Refused'}\r\n` +
          `content-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    try {
      if (open.size > maxConnections) throw new Refused(503, 'too many connections from this build\n');
      const { host, port } = parseAuthority(req.url ?? '');
      const { socket, address } = await dial(await destination(host, port), port);
      if (client.destroyed) {
        socket.destroy();
        return;
      }
      track(socket);
      stats.tunnels += 1;
      noteReached(host, port, address);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.pipe(client);
      client.pipe(socket);
      socket.on('error', () => client.destroy());
      client.on('close', () => socket.destroy());
      socket.on('close', () => client.destroy());
    } catch (err) {
      reply(err instanceof Refused ? err.status : 502, err instanceof Error ? err.message : String(err));
    }
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, text: string) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(text);
    };
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '');
      } catch {
        throw new Refused(400, 'DeploySphere build sandbox: only proxy requests are served here\n');
      }
      if (url.protocol !== 'http:') throw new Refused(400, 'use CONNECT for anything but plain http\n');
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = url.port ? Number(url.port) : 80;
      const { socket, address } = await dial(await destination(host, port), port);
      track(socket);
      noteReached(host, port, address);
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
      }
      // The already-checked socket carries the request: no second resolution can pick another host.
      const upstream = httpRequest({
        createConnection: () => socket,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, host: url.host, connection: 'close' },
      });
      upstream.on('response', (up) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(up.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
        }
        res.writeHead(up.statusCode ?? 502, out);
        up.pipe(res);
      });
      upstream.on('error', (err) => send(502, `DeploySphere build sandbox: ${err.message}\n`));
      req.pipe(upstream);
    } catch (err) {
      send(err instanceof Refused ? err.status : 502, err instanceof Error ? err.message : String(err));
    }
  };

  const server = createServer();
  server.on(
    'connect',
    (req: IncomingMessage, client: Duplex, head: Buffer) => void onConnect(req, client, head),
  );
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void onRequest(req, res));
  server.on('connection', (socket: Socket) => track(socket));
  server.on('clientError', (_err, socket) => socket.destroy());

  await rm(opts.socketPath, { force: true });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.socketPath, () => {
      server.off('error', fail);
      ok();
    });
  });

  return {
    socketPath: opts.socketPath,
    stats,
    async close() {
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      for (const socket of open) socket.destroy();
      await closed;
      if (stats.refused > refusalLines) {
        opts.logs.write('system', `Egress refused ${stats.refused} connection(s) in all`);
      }
    },
  };
}

/** `host:port` or `[v6]:port` from a CONNECT request line. */
function parseAuthority(authority: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/i.exec(authority);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Refused(400, `DeploySphere build sandbox: "${authority.slice(0, 100)}" is not host:port\n`);
  }
  return { host: (match[1] ?? match[2]!).toLowerCase(), port };
}
