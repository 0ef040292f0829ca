import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { STREAMS, subjects } from '@deploysphere/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCredentials, startNatsServer, type EmbeddedNats } from '../src/index.js';

// NATS authenticates every client (docs/nats-auth.md), against a real nats-server in operator
// mode: a build's credentials reach only its own deployment's subjects, and nothing connects
// without valid, unexpired credentials.

let dir: string;
let nats: EmbeddedNats;
let admin: NatsConnection;
const open: NatsConnection[] = [];

const newId = () => randomBytes(12).toString('hex');
const HOUR = 3_600_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-nats-auth-'));
  nats = await startNatsServer({ storeDir: join(dir, 'nats') });
  admin = await nats.connect();
  const jsm = await jetstreamManager(admin);
  await jsm.streams.add({ name: STREAMS.buildEvents, subjects: [subjects.buildEventsAll] });
  await jsm.streams.add({ name: STREAMS.buildLogs, subjects: [subjects.buildLogsAll] });
});

afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => undefined);
  await admin?.close();
  await nats?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Connects as the build worker does: the build's own credentials and inbox prefix. */
async function connectAsBuild(id: string, ttlMs = HOUR): Promise<NatsConnection> {
  const nc = await nats.connect({
    credentials: await nats.signer.mintBuildCredentials(id, ttlMs),
    inboxPrefix: subjects.buildInboxPrefix(id),
    reconnect: false,
  });
  open.push(nc);
  return nc;
}

/** Resolves with the error that ended a subscription (the server refused it), or undefined. */
async function subscriptionError(nc: NatsConnection, subject: string): Promise<unknown> {
  const sub = nc.subscribe(subject);
  await nc.flush();
  try {
    for await (const _ of sub) return undefined;
    return undefined;
  } catch (err) {
    return err;
  }
}

describe("a build's credentials", () => {
  it('publish its own events and log batches through JetStream, with acks, and read the logs stream info', async () => {
    const id = newId();
    const nc = await connectAsBuild(id);
    const js = jetstream(nc);
    const event = await js.publish(subjects.buildEvent(id), '{}', { msgID: `${id}:1` });
    expect(event).toMatchObject({ stream: STREAMS.buildEvents, duplicate: false });
    const batch = await js.publish(subjects.buildLog(id), '{}', { msgID: `${id}:1` });
    expect(batch).toMatchObject({ stream: STREAMS.buildLogs, duplicate: false });
    // The worker's one JetStream API call; checkAPI: false skips $JS.API.INFO, which it may not use.
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    expect((await jsm.streams.info(STREAMS.buildLogs)).config.name).toBe(STREAMS.buildLogs);
  });

  it('receive their own cancel request', async () => {
    const id = newId();
    const nc = await connectAsBuild(id);
    const sub = nc.subscribe(subjects.buildCancel(id), { max: 1 });
    await nc.flush();
    admin.publish(subjects.buildCancel(id), 'stop');
    for await (const m of sub) expect(m.string()).toBe('stop');
  });

  it("cannot publish to another deployment's event or log subject", async () => {
    const id = newId();
    const other = newId();
    const js = jetstream(await connectAsBuild(id));
    for (const subject of [subjects.buildEvent(other), subjects.buildLog(other)]) {
      const err = await js.publish(subject, '{}').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as Error).cause).toBeInstanceOf(errors.PermissionViolationError);
      expect((err as Error).cause).toMatchObject({ operation: 'publish', subject });
    }
    // Nothing landed on the other deployment's subjects.
    const jsm = await jetstreamManager(admin);
    for (const stream of [STREAMS.buildEvents, STREAMS.buildLogs]) {
      const info = await jsm.streams.info(stream, { subjects_filter: `builds.*.${other}` });
      expect(info.state.subjects ?? {}).toEqual({});
    }
  });

  it('cannot publish core messages outside their subjects: the server refuses them', async () => {
    const id = newId();
    const nc = await connectAsBuild(id);
    const refused = (async () => {
      for await (const s of nc.status()) if (s.type === 'error') return s.error;
    })();
    const job = subjects.buildJob('us-east-1', id);
    nc.publish(job, '{}');
    const err = await refused;
    expect(err).toBeInstanceOf(errors.PermissionViolationError);
    expect(err).toMatchObject({ operation: 'publish', subject: job });
  });

  it("cannot subscribe to >, another build's cancel subject, or the shared inbox", async () => {
    const nc = await connectAsBuild(newId());
    for (const subject of ['>', subjects.buildCancel(newId()), '_INBOX.>', 'deployments.status.>']) {
      const err = await subscriptionError(nc, subject);
      expect(err, subject).toBeInstanceOf(errors.PermissionViolationError);
      expect(err).toMatchObject({ operation: 'subscription', subject });
    }
  });

  it('cannot use the JetStream API beyond the logs stream info', async () => {
    const id = newId();
    const jsm = await jetstreamManager(await connectAsBuild(id), { checkAPI: false, timeout: 2000 });
    for (const call of [
      () => jsm.streams.info(STREAMS.buildEvents),
      () => jsm.streams.delete(STREAMS.buildLogs),
      () => jsm.consumers.add(STREAMS.buildLogs, { durable_name: 'thief' }),
      () => jsm.getAccountInfo(),
    ]) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as Error).cause).toBeInstanceOf(errors.PermissionViolationError);
    }
    expect((await (await jetstreamManager(admin)).streams.info(STREAMS.buildLogs)).config.name).toBe(
      STREAMS.buildLogs,
    );
  });

  it('are refused once expired', async () => {
    const id = newId();
    const expired = await nats.signer.mintBuildCredentials(id, -60_000);
    const err = await nats.connect({ credentials: expired, reconnect: false }).then(
      (nc) => nc.close(),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(errors.AuthorizationError);
  });

  it('expire with the time they were minted for: the server then closes the connection', async () => {
    const id = newId();
    const nc = await connectAsBuild(id, 1_500);
    // The JWT's exp is in whole seconds; the server closes the connection when it passes.
    expect(await nc.closed()).toBeInstanceOf(errors.UserAuthenticationExpiredError);
  });

  it('name their deployment, account and signing key, and carry the expiry they were minted with', async () => {
    const id = newId();
    const before = Math.floor(Date.now() / 1000);
    const { claims } = parseCredentials(await nats.signer.mintBuildCredentials(id, 20 * 60_000));
    expect(claims.name).toBe(`build-${id}`);
    expect(claims.nats.issuer_account).toBe(nats.signer.account);
    expect(claims.iss).toBe(nats.signer.signingKey);
    expect(claims.exp! - before).toBeGreaterThanOrEqual(20 * 60 - 1);
    expect(claims.exp! - before).toBeLessThanOrEqual(20 * 60 + 1);
  });

  it('are minted only for a deployment id, never for a wildcard', async () => {
    await expect(nats.signer.mintBuildCredentials('>', HOUR)).rejects.toThrow(/deployment id/);
    await expect(nats.signer.mintBuildCredentials('a.b', HOUR)).rejects.toThrow(/deployment id/);
  });
});

describe('a client without credentials', () => {
  it('is refused', async () => {
    const err = await connect({ servers: nats.url, reconnect: false }).then(
      (nc) => nc.close(),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(errors.AuthorizationError);
  });
});
