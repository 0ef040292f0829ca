import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// Real git servers for private-repository tests: git's own `http-backend` behind a small HTTP
// server that demands basic auth, and OpenSSH's `sshd` on a free port that lets in one key.

const run = promisify(execFile);

/** A bare copy of `source` under `root`, which serves any commit a fetch asks for by SHA. */
export async function bareCopy(source: string, root: string, name = 'site.git'): Promise<string> {
  const dest = join(root, name);
  await run('git', ['clone', '--quiet', '--bare', source, dest]);
  await run('git', ['-C', dest, 'config', 'uploadpack.allowAnySHA1InWant', 'true']);
  await run('git', ['-C', dest, 'config', 'http.receivepack', 'false']);
  return dest;
}

/** Pushes every branch of `source` to the bare copy again (after new commits). */
export async function syncBare(source: string, bare: string): Promise<void> {
  await run('git', ['-C', source, 'push', '--quiet', '--force', bare, 'refs/heads/*:refs/heads/*']);
}

export interface GitHttpServer {
  /** http://127.0.0.1:PORT: repositories are at `${url}/<name>.git`. */
  url: string;
  /** Requests by whether they carried the right credentials. */
  requests: { path: string; authorised: boolean }[];
  stop(): Promise<void>;
}

/**
 * `git http-backend` as a CGI behind basic auth: a request without the user and token gets 401
 * with a challenge, as GitHub, GitLab and Gitea answer for a private repository. `holdMs` delays
 * each answer, so a test can look at the clone's processes while they run.
 */
export async function startGitHttpServer(opts: {
  root: string;
  user: string;
  token: string;
  holdMs?: number;
}): Promise<GitHttpServer> {
  const expected = `Basic ${Buffer.from(`${opts.user}:${opts.token}`).toString('base64')}`;
  const requests: GitHttpServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const authorised = req.headers.authorization === expected;
    requests.push({ path: url.pathname, authorised });
    if (!authorised) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('authentication required\n');
      req.resume();
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: opts.root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: opts.user,
        REMOTE_ADDR: '127.0.0.1',
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        ...(req.headers['content-encoding']
          ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }
          : {}),
      },
    });
    req.pipe(cgi.stdin);
    const out: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => out.push(c));
    cgi.on('close', () => {
      const all = Buffer.concat(out);
      const split = all.indexOf('\r\n\r\n');
      const headerEnd = split >= 0 ? split : all.indexOf('\n\n');
      const sep = split >= 0 ? 4 : 2;
      const head = all.subarray(0, headerEnd).toString('utf8');
      const body = all.subarray(headerEnd + sep);
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      setTimeout(() => res.writeHead(status, headers).end(body), opts.holdMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function freePort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}):\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SshServer {
  port: number;
  /** The server's host key as a known_hosts line: `[127.0.0.1]:PORT ssh-ed25519 AAAA…`. */
  knownHostsLine: string;
  /** Lets this public key in (replacing any other). */
  authorize(publicKey: string): Promise<void>;
  /** Restarts on the same port with a new host key: an impostor, as far as a client can tell. */
  changeHostKey(): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

/** A real sshd on a free loopback port, for root, with public key authentication only. */
export async function startSshServer(): Promise<SshServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ds-sshd-'));
  // sshd's privilege separation directory; Debian's service creates it, and none runs here.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, '', { mode: 0o600 });
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';
  let knownHostsLine = '';

  const start = async () => {
    const hostKey = join(dir, `host_${Date.now()}`);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', hostKey]);
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'AllowUsers root',
        'UsePAM no',
        'StrictModes no',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const pub = (await run('ssh-keygen', ['-y', '-f', hostKey])).stdout.trim().split(' ');
    knownHostsLine = `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}`;
    child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitForPort(port, child, () => output);
  };
  const stopChild = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    port,
    get knownHostsLine() {
      return knownHostsLine;
    },
    authorize: (publicKey) => writeFile(authorizedKeys, `${publicKey}\n`, { mode: 0o600 }),
    async changeHostKey() {
      await stopChild();
      await start();
    },
    log: () => output,
    async stop() {
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
