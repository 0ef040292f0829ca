import type { HookResponse, WebhookDeliveryView, WebhookSecretView } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOOK_RATE } from '../src/webhooks/hook-routes.js';
import { startTestApp, type TestApp } from './app-harness.js';
import { deliveryHeaders, PUSH_PAYLOAD, type Provider } from './git-hooks.js';

// The hook URLs' refusals and edge cases on the control plane's real services (PostgreSQL,
// NATS, Workers KV), without builds: none of these deliveries may start one.

const SLUG = 'hook-edges';
const REPO = 'https://git.example/acme/site.git';
const SHA = 'b'.repeat(40);

let t: TestApp;
const hooks: Partial<Record<Provider, WebhookSecretView>> = {};

beforeAll(async () => {
  t = await startTestApp();
  const res = await t.api('POST', '/projects', { slug: SLUG, repoUrl: REPO, regions: ['us-east-1'] });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  for (const provider of ['github', 'generic'] as const) {
    const hook = await t.api<WebhookSecretView>('POST', `/projects/${SLUG}/webhook`, { provider });
    expect(hook.status).toBe(201);
    hooks[provider] = hook.body;
  }
});
afterAll(async () => {
  await t?.stop();
});

type Answer = {
  status: number;
  headers: Record<string, unknown>;
  body: HookResponse & { error?: { code: string; field?: string } };
};

async function send(path: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await t.app.inject({ method: 'POST', url: path, headers, payload: body });
  return { status: res.statusCode, headers: res.headers, body: res.json() };
}

const pathOf = (provider: Provider) => new URL(hooks[provider]!.url).pathname;

async function deliver(
  provider: Provider,
  payload: unknown,
  opts: Parameters<typeof deliveryHeaders>[3] = {},
) {
  const body = JSON.stringify(payload);
  return send(pathOf(provider), body, deliveryHeaders(provider, hooks[provider]!.secret, body, opts));
}

const counts = async () => ({
  deployments: await t.db.deployment.count(),
  deliveries: await t.db.webhookDelivery.count(),
});

describe('hook URLs', () => {
  it('need no bearer token, while connecting a hook does', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/projects/${SLUG}/webhook`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ provider: 'gitlab' }),
    });
    expect(res.statusCode).toBe(401);
    const ping = await deliver('github', { zen: 'hi' }, { event: 'ping' });
    expect(ping.status).toBe(200);
  });

  it('answer 404 for an unknown hook, and count it', async () => {
    const res = await send('/hooks/git/nosuchhook000000000000000', '{}', {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(404);
    const metrics = await t.app.inject('/metrics');
    expect(metrics.body).toMatch(
      /^deploysphere_webhook_deliveries_rejected_total\{provider="unknown",reason="unknown_hook"\} [1-9]/m,
    );
  });

  it('refuse a delivery without its delivery id, naming the header, recording nothing', async () => {
    const before = await counts();
    const body = JSON.stringify(PUSH_PAYLOAD.github({ repoUrl: REPO, branch: 'main', after: SHA }));
    const { 'x-github-delivery': _, ...headers } = deliveryHeaders('github', hooks.github!.secret, body);
    const res = await send(pathOf('github'), body, headers);
    expect(res.status).toBe(400);
    expect(res.body.error?.field).toBe('headers.x-github-delivery');
    expect(await counts()).toEqual(before);
  });

  it('record a malformed push as ignored and answer 400 naming the field', async () => {
    const before = await counts();
    const res = await deliver('github', {
      ...PUSH_PAYLOAD.github({ repoUrl: REPO, branch: 'main', after: SHA }),
      after: 'abc',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'bad_request', field: 'after' });
    const after = await counts();
    expect(after.deployments).toBe(before.deployments);
    expect(after.deliveries).toBe(before.deliveries + 1);
  });

  it("read GitHub's form-encoded deliveries, signed over the form bytes", async () => {
    const json = JSON.stringify(
      PUSH_PAYLOAD.github({ repoUrl: 'https://elsewhere.example/x/y.git', branch: 'main', after: SHA }),
    );
    const body = `payload=${encodeURIComponent(json)}`;
    const headers = {
      ...deliveryHeaders('github', hooks.github!.secret, body),
      'content-type': 'application/x-www-form-urlencoded',
    };
    const res = await send(pathOf('github'), body, headers);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('unknown repository'),
    });
  });

  it('ignore a deleted branch, and a push when the production branch is unknown', async () => {
    const before = await counts();
    const deleted = await deliver('github', {
      ...PUSH_PAYLOAD.github({ repoUrl: REPO, branch: 'old', after: '0'.repeat(40) }),
      deleted: true,
    });
    expect(deleted.body).toMatchObject({ outcome: 'ignored', reason: 'branch old was deleted' });
    const { defaultBranch: _, ...generic } = PUSH_PAYLOAD.generic({
      repoUrl: REPO,
      branch: 'main',
      after: SHA,
    });
    const unknown = await deliver('generic', generic);
    expect(unknown.body).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('production branch is unknown'),
    });
    expect((await counts()).deployments).toBe(before.deployments);
  });

  it('refuse a body over 1 MiB with 413', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(1024 * 1024 + 1) });
    const res = await send(pathOf('generic'), big, deliveryHeaders('generic', hooks.generic!.secret, big));
    expect(res.status).toBe(413);
  });

  it('take over a claim a stopped control plane left "received", so the redelivery is handled', async () => {
    const deliveryId = 'abandoned-delivery-1';
    await t.db.webhookDelivery.create({
      data: {
        id: 'abandonedclaim0000000000',
        projectId: (await t.db.project.findUniqueOrThrow({ where: { slug: SLUG } })).id,
        provider: 'github',
        deliveryId,
        event: 'ping',
        outcome: 'received',
        receivedAt: new Date(Date.now() - 60 * 60_000),
      },
    });
    const res = await deliver('github', { zen: 'again' }, { event: 'ping', deliveryId });
    expect(res.body).toMatchObject({ outcome: 'ignored', deliveryId });
    const again = await deliver('github', { zen: 'again' }, { event: 'ping', deliveryId });
    expect(again.body).toMatchObject({ outcome: 'duplicate' });
  });

  it('are rate-limited per caller and hook, with Retry-After', async () => {
    const path = '/hooks/git/ratelimited00000000000000000';
    const statuses: number[] = [];
    for (let i = 0; i <= HOOK_RATE.burst + 1; i++) {
      statuses.push((await send(path, '{}', { 'content-type': 'application/json' })).status);
    }
    expect(statuses.slice(0, HOOK_RATE.burst).every((s) => s === 404)).toBe(true);
    const limited = await send(path, '{}', { 'content-type': 'application/json' });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another hook's budget is its own.
    expect((await deliver('github', { zen: 'hi' }, { event: 'ping' })).status).toBe(200);
  });

  it('lists the deliveries, and a disconnected hook answers 404', async () => {
    const list = await t.api<WebhookDeliveryView[]>('GET', `/projects/${SLUG}/deliveries`);
    expect(list.body.length).toBeGreaterThan(3);
    expect(list.body.every((d) => d.outcome === 'ignored')).toBe(true);
    expect((await t.api('DELETE', `/projects/${SLUG}/webhooks/generic`)).status).toBe(204);
    expect((await t.api('DELETE', `/projects/${SLUG}/webhooks/generic`)).status).toBe(404);
    const gone = await deliver(
      'generic',
      PUSH_PAYLOAD.generic({ repoUrl: REPO, branch: 'main', after: SHA }),
    );
    expect(gone.status).toBe(404);
  });
});

describe('slugs', () => {
  it('a new project may not take a name branch aliases use', async () => {
    const res = await t.api<{ error: { field: string } }>('POST', '/projects', {
      slug: 'shop-git-main',
      repoUrl: REPO,
      regions: ['us-east-1'],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('slug');
  });
});
