import { Blob } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { BlobGrant } from '@deploysphere/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok } from '../test/fake-api.js';
import { deploymentId, deploymentView } from '../test/fixtures.js';
import { deployFolder, putBlob, UploadError } from './drop-deploy.js';
import { listFolder } from './folder-listing.js';

// The drop's uploads against a stubbed fetch: which answers from a bucket are retried, which
// end the upload, and that a failed upload cancels its deployment and never finalizes it.

afterEach(() => {
  vi.unstubAllGlobals();
});

const STORAGE = 'http://bucket.test';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const grant = (hash: string, host = STORAGE): BlobGrant => ({
  hash,
  put: { method: 'PUT', url: `${host}/blobs/${hash}?X-Amz-Signature=s`, headers: { 'if-none-match': '*' } },
});

/** A bucket answering each PUT with the next of `answers` (a status, or a network failure). */
function bucket(answers: (number | 'network')[]) {
  const seen: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      seen.push(url);
      const next = answers.shift() ?? 200;
      if (next === 'network') throw new TypeError('Failed to fetch');
      return new Response(next === 403 ? '<Error><Code>AccessDenied</Code></Error>' : null, { status: next });
    }),
  );
  return seen;
}

const body = new Blob(['x']) as unknown as globalThis.Blob;

describe('putBlob', () => {
  it('takes 2xx, and 412 (If-None-Match found it stored) as done', async () => {
    const seen = bucket([412]);
    await putBlob(grant(sha('x')), body);
    expect(seen).toHaveLength(1);
  });

  it('retries a 503 and a network failure, then succeeds', async () => {
    const seen = bucket([503, 'network', 200]);
    await putBlob(grant(sha('x')), body);
    expect(seen).toHaveLength(3);
  });

  it('does not retry a refusal, and names the status and S3 code', async () => {
    const seen = bucket([403]);
    const err = await putBlob(grant(sha('x')), body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadError);
    expect((err as UploadError).message).toMatch(/refused .*: 403 AccessDenied$/);
    expect(seen).toHaveLength(1);
  });
});

describe('deployFolder', () => {
  it('cancels the deployment when a region refuses a blob, and never finalizes it', async () => {
    const text = '<h1>a</h1>';
    const id = deploymentId(3);
    const { callsTo } = fakeApi({
      'POST /cli-deploys': () => ({
        status: 201,
        body: {
          deployment: deploymentView({ id, status: 'building' }),
          projectCreated: false,
          expiresAt: '2026-12-03T09:00:00.000Z',
          blobs: 1,
          regions: [{ region: 'us-east-1', present: 0, missing: [grant(sha(text))] }],
        },
      }),
      [`POST /deployments/${id}/cancel`]: () => ok(deploymentView({ id, status: 'cancelled' })),
    });
    const apiFetch = globalThis.fetch;
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) =>
        url.startsWith(STORAGE) ? new Response(null, { status: 403 }) : apiFetch(url, init),
      ),
    );
    const listing = listFolder([{ path: 'index.html', file: new Blob([text]) as unknown as File }]);
    const phases: string[] = [];

    await expect(
      deployFolder({ listing, slug: 'web', target: 'production', onProgress: (p) => phases.push(p.phase) }),
    ).rejects.toThrow(/403/);
    expect(callsTo(`POST /deployments/${id}/cancel`)).toHaveLength(1);
    expect(callsTo(`POST /cli-deploys/${id}/finalize`)).toHaveLength(0);
    expect(phases).toContain('uploading');
    expect(phases).not.toContain('finalizing');
  });
});
