import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_REGIONS,
  type DeploymentView,
  type GcRunView,
  type ProjectStorageView,
  type ProjectView,
} from '@deploysphere/contracts';
import { startS3rver, S3RVER_CREDENTIALS, type EmbeddedS3 } from '@deploysphere/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageEnvPrefix } from '../src/config.js';
import { startTestApp, type TestApp } from './app-harness.js';
import { until } from './gc-harness.js';
import { newTestId } from './pipeline-harness.js';

// Retention settings and garbage collection through the API, on the control plane's app with
// real PostgreSQL, NATS, chDB, KV and an s3rver bucket per region.

let t: TestApp;
let s3: EmbeddedS3;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-gc-api-'));
  const buckets = DEFAULT_REGIONS.map((r) => `gc-api-${r.id}`);
  s3 = await startS3rver({ directory: join(dir, 's3'), buckets });
  const storage: Record<string, string> = {};
  DEFAULT_REGIONS.forEach((r, i) => {
    const prefix = storageEnvPrefix(r.id);
    Object.assign(storage, {
      [`${prefix}ENDPOINT`]: s3.endpoint,
      [`${prefix}BUCKET`]: buckets[i]!,
      [`${prefix}ACCESS_KEY_ID`]: S3RVER_CREDENTIALS.accessKeyId,
      [`${prefix}SECRET_ACCESS_KEY`]: S3RVER_CREDENTIALS.secretAccessKey,
      [`${prefix}FORCE_PATH_STYLE`]: 'true',
    });
  });
  // The schedule is off: this file starts every run itself.
  t = await startTestApp({ ...storage, GC_ENABLED: 'false', GC_GRACE_MS: '0' });
});

afterAll(async () => {
  await t?.stop();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

const project = (slug: string, extra: Record<string, unknown> = {}) =>
  t.api<ProjectView>('POST', '/projects', {
    slug,
    repoUrl: 'https://example.com/acme/site.git',
    regions: ['us-east-1'],
    ...extra,
  });

describe('retention settings', () => {
  it('are saved on create and update, null returns a field to the default, and bad values are refused naming the field', async () => {
    const created = await project('kept-three', { retention: { retainReadyPerBranch: 3 } });
    expect(created.status).toBe(201);
    expect(created.body.retention).toEqual({
      retainReadyPerBranch: 3,
      previewMaxAgeDays: null,
      buildCacheExpiryDays: null,
    });
    const updated = await t.api<ProjectView>('PATCH', '/projects/kept-three', {
      retention: { retainReadyPerBranch: null, previewMaxAgeDays: 7 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.retention).toEqual({
      retainReadyPerBranch: null,
      previewMaxAgeDays: 7,
      buildCacheExpiryDays: null,
    });

    for (const [retention, field] of [
      [{ retainReadyPerBranch: 0 }, 'retention.retainReadyPerBranch'],
      [{ previewMaxAgeDays: 1.5 }, 'retention.previewMaxAgeDays'],
      [{ buildCacheExpiryDays: 'soon' }, 'retention.buildCacheExpiryDays'],
      [{ keepForever: true }, 'retention.keepForever'],
    ] as const) {
      const res = await t.api<{ error: { field: string } }>('PATCH', '/projects/kept-three', { retention });
      expect(res.status, JSON.stringify(retention)).toBe(400);
      expect(res.body.error.field).toBe(field);
    }
    const row = await t.db.project.findUniqueOrThrow({ where: { slug: 'kept-three' } });
    expect(row.previewMaxAgeDays).toBe(7);

    const storage = await t.api<ProjectStorageView>('GET', '/projects/kept-three/storage');
    expect(storage.status).toBe(200);
    expect(storage.body.effective).toEqual({
      retainReadyPerBranch: 10,
      previewMaxAgeDays: 7,
      buildCacheExpiryDays: 7,
    });
    expect((await t.api('GET', '/projects/no-such-project/storage')).status).toBe(404);
  });
});

describe('garbage collection runs', () => {
  it('starts a run (dry or real), reports it, and refuses a bad body naming the field', async () => {
    const bad = await t.api<{ error: { field: string } }>('POST', '/gc/runs', { dryRun: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('dryRun');
    expect((await t.api('GET', '/gc/runs/gc_nosuchrun')).status).toBe(404);

    for (const dryRun of [true, false]) {
      const started = await t.api<{ id: string }>('POST', '/gc/runs', { dryRun });
      expect(started.status).toBe(202);
      let run: GcRunView | undefined;
      await until('the run to finish', async () => {
        run = (await t.api<GcRunView>('GET', `/gc/runs/${started.body.id}`)).body;
        return run.status !== 'running';
      });
      expect(run).toMatchObject({ status: 'completed', dryRun, trigger: 'api' });
      expect(run!.report.regions.map((r) => r.region).sort()).toEqual(
        DEFAULT_REGIONS.map((r) => r.id).sort(),
      );
      const latest = await t.api<GcRunView>('GET', '/gc/runs/latest');
      expect(latest.body.id).toBe(started.body.id);
    }
  });

  it('an expired deployment cannot be promoted', async () => {
    const created = await project(`exp-${newTestId().slice(0, 8)}`);
    const id = newTestId()
      .replace(/[^a-z0-9]/g, 'a')
      .slice(0, 24);
    await t.db.deployment.create({
      data: {
        id,
        projectId: created.body.id,
        status: 'ready',
        regions: ['us-east-1'],
        expiredAt: new Date(),
        expiredReason: 'keep-last',
      },
    });
    const res = await t.api<{ error: { field: string; message: string } }>(
      'POST',
      `/projects/${created.body.slug}/promote`,
      { deploymentId: id },
    );
    expect(res.status).toBe(409);
    expect(res.body.error.field).toBe('deploymentId');
    const p = await t.db.project.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(p.productionDeploymentId).toBeNull();
    const view = await t.api<DeploymentView>('GET', `/deployments/${id}`);
    expect(view.body.expiry).toMatchObject({ reason: 'keep-last' });
  });
});
