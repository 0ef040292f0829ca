import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BUILD_SESSION_ERRORS,
  BUILD_SESSION_PATHS,
  BuildSpecSchema,
  cacheBranches,
  type BootstrapResponse,
  type BuildSpec,
  type StorageTarget,
} from '@deploysphere/contracts';
import { startNatsServer, type EmbeddedNats } from '@deploysphere/stack';
import {
  StorageGrants,
  type GrantScope,
  type StorageGrantsOptions,
} from '../../control-plane/src/build-sessions/storage-grants.js';
import type { BuildGrants } from '../src/grants/build-grants.js';
import { createS3Client } from '../src/s3-client.js';

const execFileAsync = promisify(execFile);

export async function tempDir(prefix = 'bw-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A fresh 24-character deployment id. */
export function deploymentId(): string {
  let id = '';
  while (id.length < 24)
    id += randomBytes(16)
      .toString('hex')
      .replace(/[^a-z0-9]/g, '');
  return id.slice(0, 24);
}

export type RepoFile = string | { symlink: string };

const gitEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd, env: gitEnv });
  return stdout.trim();
}

/** Writes files into `dir` (creating it), symlinks included. */
export async function writeTree(dir: string, files: Record<string, RepoFile>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await rm(full, { force: true });
    if (typeof content === 'string') await writeFile(full, content);
    else await symlink(content.symlink, full);
  }
}

export interface TestRepo {
  dir: string;
  url: string;
  /** Commits the given files on top of the current branch; returns the new commit SHA. */
  commit(files: Record<string, RepoFile>, message?: string): Promise<string>;
}

/** A real git repository in a temp dir, served as a file:// URL, default branch `main`. */
export async function createRepo(files: Record<string, RepoFile>): Promise<TestRepo> {
  const dir = await tempDir('bw-repo-');
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  const repo: TestRepo = {
    dir,
    url: `file://${dir}`,
    async commit(next, message = 'commit') {
      await writeTree(dir, next);
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '--quiet', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
  };
  await repo.commit(files, 'initial');
  return repo;
}

/**
 * The embedded nats-server (operator mode, JetStream) on a free port, its store in a temp dir
 * that stop() removes. Connect through its connect(): as the control plane by default, or with a
 * build's credentials from its signer.
 */
export async function startNats(): Promise<EmbeddedNats> {
  const storeDir = await tempDir('bw-nats-');
  const nats = await startNatsServer({ storeDir });
  return {
    ...nats,
    async stop() {
      await nats.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** PIDs of host processes whose command line contains `marker`. */
export async function processesWithMarker(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(marker)) found.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return found;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A build's grants answered in-process by the control plane's own issuer (StorageGrants) over
 * real S3 (s3rver), with the spec's scope: what runBuild needs when no control plane runs. The
 * targets are the regions' buckets as the control plane reaches them, in the spec's order.
 */
export function inProcessGrants(spec: BuildSpec, targets: readonly StorageTarget[]): BuildGrants {
  const issuer = grantIssuer(targets);
  const scope: GrantScope = {
    deploymentId: spec.deploymentId,
    projectSlug: spec.projectSlug,
    regions: spec.storage.map((s) => s.region),
    previousDeployments: spec.previousDeployments,
    ...cacheBranches(spec),
  };
  return {
    uploadGrants: (blobs) => issuer.uploadGrants(scope, blobs),
    cacheRestore: (key) => issuer.cacheRestore(scope, key),
    cacheSave: (req) => issuer.cacheSave(scope, req),
  };
}

const clients = new Map<string, S3Client>();

/** The control plane's grant issuer over these buckets (one S3 client per bucket, kept). */
export function grantIssuer(
  targets: readonly StorageTarget[],
  opts: Omit<StorageGrantsOptions, 'bucketFor'> = {},
): StorageGrants {
  return new StorageGrants({
    ...opts,
    bucketFor: (region) => {
      const t = targets.find((x) => x.region === region);
      if (!t) return undefined;
      const id = `${t.endpoint}/${t.bucket}`;
      if (!clients.has(id)) clients.set(id, createS3Client(t));
      return { client: clients.get(id)!, bucket: t.bucket };
    },
  });
}

export interface GrantServer {
  url: string;
  /** Registers a build: returns the one-time bootstrap token its worker is launched with. */
  launch(spec: BuildSpec, opts?: { natsCredentials?: string; firstEventSeq?: number }): string;
  /** Every request's method, path and Authorization header, for checks on what the worker sent. */
  readonly requests: { method: string; path: string; authorization: string | undefined }[];
  stop(): Promise<void>;
}

/**
 * A stand-in for the control plane's build-session routes (bootstrap, upload and cache grants),
 * answered by the control plane's own grant issuer over real S3: the worker CLI's tests need no
 * database. Tokens are one-time and bound to their deployment, as the control plane's are.
 */
export async function startGrantServer(targets: readonly StorageTarget[]): Promise<GrantServer> {
  const bootstraps = new Map<string, BootstrapResponse>();
  const builds = new Map<string, { token: string; grants: BuildGrants }>();
  const requests: GrantServer['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const authorization = req.headers.authorization;
      requests.push({ method: req.method ?? '', path, authorization });
      const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1] ?? '';
      const answer = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const refuse = (status: number, code: string) => answer(status, { error: { code, message: code } });
      void (async () => {
        if (path === BUILD_SESSION_PATHS.bootstrap) {
          const session = bootstraps.get(token);
          if (!session) return refuse(401, BUILD_SESSION_ERRORS.bootstrapTokenInvalid);
          bootstraps.delete(token);
          return answer(200, session);
        }
        const m = /^\/internal\/v1\/builds\/([a-z0-9]+)\/(upload-grants|cache\/restore|cache\/save)$/.exec(
          path,
        );
        const build = m ? builds.get(m[1]!) : undefined;
        if (!m || !build) return refuse(404, 'not_found');
        if (build.token !== token) return refuse(401, BUILD_SESSION_ERRORS.buildTokenInvalid);
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
        if (m[2] === 'upload-grants') return answer(200, await build.grants.uploadGrants(body.blobs));
        if (m[2] === 'cache/restore') return answer(200, await build.grants.cacheRestore(body.key));
        return answer(200, await build.grants.cacheSave(body));
      })().catch((err: unknown) => answer(500, { error: { code: 'internal', message: String(err) } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    launch(spec, opts = {}) {
      const bootstrapToken = randomBytes(32).toString('base64url');
      const buildToken = randomBytes(32).toString('base64url');
      bootstraps.set(bootstrapToken, {
        v: 1,
        spec: BuildSpecSchema.parse(spec),
        natsCredentials: opts.natsCredentials ?? 'unused without NATS',
        firstEventSeq: opts.firstEventSeq ?? 1,
        buildToken,
      });
      builds.set(spec.deploymentId, { token: buildToken, grants: inProcessGrants(spec, targets) });
      return bootstrapToken;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
