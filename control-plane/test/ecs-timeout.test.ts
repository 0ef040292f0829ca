import type { DeploymentView } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// The build time limit with BUILD_RUNNER=ecs: it travels in the task definition's static
// environment, so the worker in the task enforces it. A file of its own, because it needs its
// own platform (one chDB data directory per process).

const PRIMARY = 'ap-southeast-1';

describe('the build time limit on ECS', () => {
  let slow: TestPlatform;
  beforeAll(async () => {
    slow = await startTestPlatform({
      BUILD_RUNNER: 'ecs',
      BUILD_TIMEOUT_MS: '4000',
      ECS_POLL_INTERVAL_MS: '250',
    });
  });
  afterAll(async () => {
    await slow?.stop();
  });

  it('fails a build past BUILD_TIMEOUT_MS with the limit named', async () => {
    const repo = await GitRepo.create({ 'README.md': 'slow' });
    const created = await slow.api('POST', '/projects', {
      slug: 'ecs-timeout',
      repoUrl: repo.url,
      installCommand: '',
      buildCommand: 'sleep 300',
      regions: [PRIMARY],
    });
    expect(created.status).toBe(201);
    const res = await slow.api<DeploymentView>('POST', '/projects/ecs-timeout/deployments', {});
    const d = await slow.waitFor(res.body.id, ['ready', 'error']);
    expect(d.status).toBe('error');
    expect(d.error).toMatch(/time limit/);
    expect(d.runner).toMatchObject({ kind: 'ecs', region: PRIMARY });
  });
});
