import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentView, GitCredentialView, ProjectView } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './git-repo.js';
import {
  bareCopy,
  startGitHttpServer,
  startSshServer,
  type GitHttpServer,
  type SshServer,
} from './git-servers.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// Private repositories on the real local stack: a token over HTTP to git's own http-backend
// behind basic auth, and a generated ed25519 deploy key over SSH to a real sshd. Each build's
// user command then hunts for the credential (its environment, every process it can see, the
// files it can reach), and the test looks for it in every process's argv and environment on the
// machine while the clone runs, and in the build's logs.

const TOKEN = 'glpat-PRIVATEtoken0123456789abcdef';
const USER = 'x-access-token';

/** The user's build: the site, plus everything it can find that might hold a credential. */
const HUNT = [
  'mkdir -p dist && cp -r site/. dist/ && {',
  'echo "== env"; env;',
  'echo "== processes"; for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; tr "\\0" "\\n" < $p/environ; done;',
  'echo "== files"; ls -la /tmp "$HOME" .; cat .git/config;',
  'find / -maxdepth 6 \\( -name askpass -o -name deploy_key -o -name known_hosts -o -name "deploysphere-git-home-*" -o -name password \\) -print -exec cat {} \\; ;',
  'echo LEAK-CHECK-DONE; } > dist/leak.txt 2>&1',
].join(' ');

let t: TestPlatform;
let repo: GitRepo;
let root: string;
let bare: string;
let http: GitHttpServer;
let sshd: SshServer;

beforeAll(async () => {
  t = await startTestPlatform({ BUILD_TIMEOUT_MS: '60000' });
  repo = await GitRepo.create({ 'site/index.html': '<!doctype html><h1>private one</h1>' });
  root = await mkdtemp(join(tmpdir(), 'ds-private-'));
  bare = await bareCopy(repo.dir, root);
  // Each answer is held a little, so the clone's processes live long enough to be looked at.
  http = await startGitHttpServer({ root, user: USER, token: TOKEN, holdMs: 700 });
  sshd = await startSshServer();
});
afterAll(async () => {
  await t?.stop();
  await http?.stop();
  await sshd?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function createProject(slug: string, repoUrl: string): Promise<void> {
  const res = await t.api<ProjectView>('POST', '/projects', {
    slug,
    repoUrl,
    gitRef: 'main',
    installCommand: '',
    buildCommand: HUNT,
    outputDir: 'dist',
    regions: ['us-east-1'],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function deploy(slug: string): Promise<string> {
  const res = await t.api<DeploymentView>('POST', `/projects/${slug}/deployments`, {});
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id;
}

async function logText(id: string): Promise<string> {
  const res = await t.api<{ lines: { text?: string; line?: string }[] }>(
    'GET',
    `/deployments/${id}/logs?limit=1000`,
  );
  expect(res.status).toBe(200);
  return JSON.stringify(res.body);
}

/**
 * Reads every process's argv and environment on the machine, over and over, until `until`
 * settles: the clone's git, its remote helper, askpass and ssh run meanwhile. Answers the
 * processes that had `secret` in either, and whether a clone's process was seen at all (a scan
 * that never saw one proves nothing).
 */
async function watchProcesses(secret: string, until: Promise<unknown>) {
  let done = false;
  void until.finally(() => (done = true));
  const hits: string[] = [];
  let sawClone = false;
  while (!done) {
    for (const pid of await readdir('/proc').catch(() => [])) {
      if (!/^\d+$/.test(pid)) continue;
      const [cmdline, environ] = await Promise.all([
        readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
        readFile(`/proc/${pid}/environ`, 'utf8').catch(() => ''),
      ]);
      if (/git(-remote-http| fetch|\0fetch)/.test(cmdline)) sawClone = true;
      if (cmdline.includes(secret) || environ.includes(secret)) hits.push(cmdline.replace(/\0/g, ' '));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { hits, sawClone };
}

describe('a private repository over HTTP with a token', () => {
  const SLUG = 'private-http';

  it('without a credential, the clone is refused (the server really is private)', async () => {
    await createProject(SLUG, `${http.url}/site.git`);
    const d = await t.waitFor(await deploy(SLUG), ['ready', 'error', 'cancelled']);
    expect(d.status).toBe('error');
    expect(d.error).toMatch(/clone|fetch/i);
    expect(http.requests.some((r) => !r.authorised)).toBe(true);
    expect(http.requests.some((r) => r.authorised)).toBe(false);
  });

  it('with the token it deploys; the token is in no argv, environment, log or file the build can reach', async () => {
    const set = await t.api<GitCredentialView>('PUT', `/projects/${SLUG}/git-credential`, { token: TOKEN });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ kind: 'token', username: USER, publicKey: null });
    expect(JSON.stringify(set.body)).not.toContain(TOKEN);
    const row = await t.db.gitCredential.findFirstOrThrow({ where: { kind: 'token' } });
    expect(row.secretCiphertext).not.toContain(TOKEN);

    const id = await deploy(SLUG);
    const finished = t.waitFor(id, ['ready', 'error', 'cancelled']);
    const scan = await watchProcesses(TOKEN, finished);
    const d = await finished;
    expect(d.status, d.error ?? '').toBe('ready');
    expect(http.requests.some((r) => r.authorised)).toBe(true);
    expect(scan.sawClone).toBe(true);
    expect(scan.hits).toEqual([]);

    const leak = await t.visit(new URL(d.deploymentUrl).hostname, '/leak.txt');
    expect(leak.status).toBe(200);
    expect(leak.body).toContain('LEAK-CHECK-DONE');
    expect(leak.body).toContain('== processes');
    expect(leak.body).not.toContain(TOKEN);
    expect(await logText(id)).not.toContain(TOKEN);
    expect(await logText(id)).toContain("with the project's access token");
    // The worker's own log (everything it printed, the clone included) has no token either.
    const workerLogs = (await readdir(join(t.dataDir, 'builds'))).filter((n) => n.endsWith('.worker.log'));
    expect(workerLogs).toContain(`${id}.worker.log`);
    for (const name of workerLogs) {
      expect(await readFile(join(t.dataDir, 'builds', name), 'utf8')).not.toContain(TOKEN);
    }
    expect(await readFile(join(t.dataDir, 'builds', `${id}.worker.log`), 'utf8')).toContain('Cloning');
    // The worker's credential files went with the clone: none is left on the machine.
    const left = (await readdir(tmpdir())).filter((n) => n.startsWith('deploysphere-git-home-'));
    for (const dir of left) {
      const files = await readdir(join(tmpdir(), dir, 'credential')).catch(() => []);
      for (const f of files) {
        expect(await readFile(join(tmpdir(), dir, 'credential', f), 'utf8').catch(() => '')).not.toContain(
          TOKEN,
        );
      }
    }
  });

  it('refuses bad input naming the field, and shows no secret', async () => {
    const bad = await t.api<{ error: { field: string } }>('PUT', `/projects/${SLUG}/git-credential`, {
      token: 'has space',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('token');
    const view = await t.api<GitCredentialView>('GET', `/projects/${SLUG}/git-credential`);
    expect(view.status).toBe(200);
    expect(JSON.stringify(view.body)).not.toContain(TOKEN);
    const key = await t.api<{ error: { field: string } }>('POST', `/projects/${SLUG}/deploy-key`, {});
    expect(key.status).toBe(409);
    expect(key.body.error.field).toBe('repoUrl');
  });
});

describe('a private repository over SSH with a deploy key', () => {
  const SLUG = 'private-ssh';
  let key: GitCredentialView;

  it('generates an ed25519 key, pins the server’s host key, and deploys with it', async () => {
    await createProject(SLUG, `ssh://root@127.0.0.1:${sshd.port}${bare}`);
    const res = await t.api<GitCredentialView>('POST', `/projects/${SLUG}/deploy-key`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    key = res.body;
    expect(key.kind).toBe('ssh');
    expect(key.publicKey).toMatch(/^ssh-ed25519 \S+ deploysphere-private-ssh$/);
    expect(key.knownHosts).toContain(sshd.knownHostsLine);

    // Before the provider knows the key, the server refuses it.
    const refused = await t.waitFor(await deploy(SLUG), ['ready', 'error', 'cancelled']);
    expect(refused.status).toBe('error');

    await sshd.authorize(key.publicKey!);
    const id = await deploy(SLUG);
    const d = await t.waitFor(id, ['ready', 'error', 'cancelled']);
    expect(d.status, `${d.error ?? ''}\n${sshd.log()}`).toBe('ready');
    expect(sshd.log()).toMatch(/Accepted publickey for root/);

    const row = await t.db.gitCredential.findFirstOrThrow({ where: { kind: 'ssh' } });
    expect(row.secretCiphertext).not.toContain('OPENSSH');
    // Any copy of the key file would carry its armour line; the build found none.
    const leak = await t.visit(new URL(d.deploymentUrl).hostname, '/leak.txt');
    expect(leak.body).toContain('LEAK-CHECK-DONE');
    // (The hunt's own command line names deploy_key; a found file would print its armour.)
    expect(leak.body).not.toContain('OPENSSH PRIVATE KEY');
    const logs = await logText(id);
    expect(logs).not.toContain('OPENSSH PRIVATE KEY');
    expect(logs).toContain("with the project's deploy key");
  });

  it('a changed host key fails the clone with a clear error; pinning the new key fixes it', async () => {
    await sshd.changeHostKey();
    const failed = await t.waitFor(await deploy(SLUG), ['ready', 'error', 'cancelled']);
    expect(failed.status).toBe('error');
    expect(failed.error).toContain('host key is not the one pinned');

    const pin = await t.api<GitCredentialView>('PUT', `/projects/${SLUG}/deploy-key/known-hosts`, {
      knownHosts: sshd.knownHostsLine,
    });
    expect(pin.status, JSON.stringify(pin.body)).toBe(200);
    const d = await t.waitFor(await deploy(SLUG), ['ready', 'error', 'cancelled']);
    expect(d.status, d.error ?? '').toBe('ready');
  });

  it('refuses known_hosts that are not known_hosts lines', async () => {
    const res = await t.api<{ error: { field: string } }>('PUT', `/projects/${SLUG}/deploy-key/known-hosts`, {
      knownHosts: 'evil\nssh-ed25519',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('knownHosts');
  });
});
