import type { DeploymentView } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, descendants } from './cli-process.js';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// A platform with short limits, so the build timeout and the heartbeat watchdog can be seen.
let t: TestPlatform;
let repo: GitRepo;
beforeAll(async () => {
  t = await startTestPlatform({ BUILD_TIMEOUT_MS: '4000', HEARTBEAT_TIMEOUT_MS: '2000' });
  repo = await GitRepo.create({ 'README.md': 'limits' });
});
afterAll(async () => {
  await t?.stop();
});

async function deploy(slug: string, buildCommand: string): Promise<string> {
  const created = await t.api('POST', '/projects', {
    slug,
    repoUrl: repo.url,
    installCommand: 'true',
    buildCommand,
    regions: ['us-east-1'],
  });
  expect(created.status).toBe(201);
  return (await t.api<DeploymentView>('POST', `/projects/${slug}/deployments`, {})).body.id;
}

describe('build limits', () => {
  it('a build that runs past the timeout ends in error, and its processes are gone', async () => {
    const id = await deploy('too-slow', 'sleep 120');
    const d = await t.waitFor(id, ['ready', 'error', 'cancelled'], 60_000);
    expect(d.status).toBe('error');
    expect(d.error).toMatch(/time/i);
    expect(alive(descendants(process.pid)).filter((p) => p.includes('sleep 120'))).toEqual([]);
  });

  it('a build whose worker stops sending heartbeats is failed with the reason', async () => {
    const id = await deploy('frozen', 'sleep 30 && mkdir -p out && echo x > out/index.html');
    await t.waitFor(id, ['building']);
    // Frozen once it has fetched its spec and reports phases: before that, a build is judged by
    // its bootstrap token's lifetime instead (watchdog.test.ts).
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      const { body } = await t.api<DeploymentView>('GET', `/deployments/${id}`);
      if (body.phase === 'build') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The deployment is claimed a moment before its worker process exists: wait for the process.
    const findWorker = () =>
      alive(descendants(process.pid)).find((p) => p.includes('build-worker') && p.includes('main.ts'));
    const deadline = Date.now() + 20_000;
    while (!findWorker() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const worker = findWorker();
    expect(worker).toBeDefined();
    // Freeze the worker (not its children): it is alive but silent, as after a network split.
    const pid = Number(worker!.split(' ')[0]);
    process.kill(pid, 'SIGSTOP');
    try {
      const d = await t.waitFor(id, ['ready', 'error', 'cancelled'], 30_000);
      expect(d.status).toBe('error');
      expect(d.error).toMatch(/stopped sending heartbeats/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
