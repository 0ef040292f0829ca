import type { DeploymentView } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { deploymentSteps } from './phases.js';

const base: DeploymentView = {
  id: 'a'.repeat(24),
  projectSlug: 'site',
  status: 'building',
  phase: 'build',
  gitRef: null,
  regions: ['eu-west-1'],
  commitSha: null,
  target: 'production',
  branch: null,
  commitMessage: null,
  commitAuthor: null,
  branchUrl: null,
  url: 'http://site.localhost:8787',
  deploymentUrl: 'http://site--aaaaaaaaa.localhost:8787',
  isProduction: false,
  error: null,
  stats: { files: 0, bytes: 0, uploadedBytes: 0, phaseDurationsMs: { clone: 100, install: 2000 } },
  preset: null,
  cache: null,
  cloneBytes: null,
  withoutCache: false,
  runner: null,
  createdAt: '2026-11-22T10:00:00.000Z',
  startedAt: '2026-11-22T10:00:01.000Z',
  finishedAt: null,
};
const at = (iso: string) => Date.parse(iso);
const summary = (d: DeploymentView, now: number) =>
  deploymentSteps(d, now).map((s) => `${s.name}:${s.state}:${s.elapsedMs ?? '-'}`);

describe('phase stepper steps', () => {
  it('times finished phases by their durations and the running one from where they ended', () => {
    expect(summary(base, at('2026-11-22T10:00:05.100Z'))).toEqual([
      'queued:done:1000',
      'clone:done:100',
      'install:done:2000',
      'build:current:2000',
      'upload:pending:-',
      'ready:pending:-',
    ]);
  });

  it('marks the phase a failed build stopped in, even when the view has no phase any more', () => {
    const failed = { ...base, status: 'error' as const, phase: null, finishedAt: '2026-11-22T10:00:04.000Z' };
    const steps = deploymentSteps(failed, at('2026-11-22T10:01:00.000Z'));
    expect(steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'failed', 'pending', 'pending']);
    expect(steps[3]!.elapsedMs).toBe(900);
  });

  it('stops a skipped deployment where it stopped: before any build for a push, at clone for the ignored build step', () => {
    const pushed = {
      ...base,
      status: 'skipped' as const,
      phase: null,
      startedAt: null,
      finishedAt: '2026-11-22T10:00:00.000Z',
      stats: { ...base.stats, phaseDurationsMs: {} },
    };
    expect(deploymentSteps(pushed, at('2026-11-22T10:01:00.000Z')).map((s) => s.state)).toEqual([
      'failed',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    const ignored = {
      ...pushed,
      startedAt: '2026-11-22T10:00:01.000Z',
      finishedAt: '2026-11-22T10:00:02.000Z',
    };
    expect(deploymentSteps(ignored, at('2026-11-22T10:01:00.000Z'))[1]!.state).toBe('failed');
  });

  it('shows the KV switch on the ready step and everything done once ready', () => {
    const activating = { ...base, phase: 'activate' as const };
    expect(deploymentSteps(activating, at('2026-11-22T10:00:09.000Z'))[5]!.state).toBe('current');
    const ready = {
      ...base,
      status: 'ready' as const,
      phase: null,
      finishedAt: '2026-11-22T10:00:09.000Z',
      stats: {
        ...base.stats,
        phaseDurationsMs: { clone: 100, install: 2000, build: 3000, upload: 500, activate: 80 },
      },
    };
    expect(summary(ready, at('2026-11-22T11:00:00.000Z'))).toEqual([
      'queued:done:1000',
      'clone:done:100',
      'install:done:2000',
      'build:done:3000',
      'upload:done:500',
      'ready:done:80',
    ]);
  });

  it('ticks the queue time while nothing has started', () => {
    const queued = { ...base, status: 'queued' as const, phase: null, startedAt: null };
    queued.stats = { ...base.stats, phaseDurationsMs: {} };
    expect(summary(queued, at('2026-11-22T10:00:03.000Z'))[0]).toBe('queued:current:3000');
  });
});
