import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, postgresBinaries, startEmbeddedPostgres, startNatsServer } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-stack-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('embedded PostgreSQL', () => {
  it('keeps its data across a restart on the same directory', async () => {
    const dataDir = join(dir, 'pg');
    const first = await startEmbeddedPostgres({ dataDir });
    const c1 = new pg.Client({ connectionString: first.url });
    await c1.connect();
    await c1.query('CREATE TABLE kept (v text)');
    await c1.query("INSERT INTO kept VALUES ('still here')");
    await c1.end();
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect(second.url).not.toBe(first.url); // a new free port each time
      const c2 = new pg.Client({ connectionString: second.url });
      await c2.connect();
      const { rows } = await c2.query('SELECT v FROM kept');
      await c2.end();
      expect(rows).toEqual([{ v: 'still here' }]);
    } finally {
      await second.stop();
    }
  });
});

describe('embedded PostgreSQL in private directories', () => {
  // A checkout cloned into `mktemp -d` or a home directory is 0700, and so may DATA_DIR's parents
  // be. As root, PostgreSQL still runs as someone else; it must reach both without any folder
  // being opened up.
  it('runs from binaries and data in 0700 directories and leaves their modes as they were', async () => {
    const checkout = await mkdtemp(join(dir, 'checkout-'));
    const home = await mkdtemp(join(dir, 'home-'));
    const installed = await postgresBinaries();
    const native = dirname(dirname(installed.postgres));
    const copy = join(checkout, 'node_modules', 'pg-native');
    await mkdir(dirname(copy), { recursive: true });
    await promisify(execFile)('cp', ['-a', native, copy]);
    const modes = async () => [(await stat(checkout)).mode & 0o777, (await stat(home)).mode & 0o777];
    expect(await modes()).toEqual([0o700, 0o700]);

    const db = await startEmbeddedPostgres({
      dataDir: join(home, 'data', 'postgres'),
      binaries: { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') },
    });
    try {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query('SELECT 1 AS one');
      await client.end();
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await db.stop();
    }
    expect(await modes()).toEqual([0o700, 0o700]);
  });

  it('fails with the reason, never hangs, when PostgreSQL cannot run', async () => {
    const missing = join(dir, 'no-such-dir', 'bin');
    await expect(
      startEmbeddedPostgres({
        dataDir: join(dir, 'pg-missing-binaries'),
        binaries: { initdb: join(missing, 'initdb'), postgres: join(missing, 'postgres') },
      }),
    ).rejects.toThrow(
      // Run directly, spawn fails; run as root, unshare says so and exits 127.
      /embedded PostgreSQL failed to start in .*pg-missing-binaries: initdb (could not run|exited with code 127)[^]*(ENOENT|No such file or directory)/,
    );
  });
});

describe('embedded NATS', () => {
  it('runs JetStream, keeps streams and identities across a restart, and leaves no process behind', async () => {
    const storeDir = join(dir, 'nats');
    const first = await startNatsServer({ storeDir });
    const nc = await first.connect();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
    await jetstream(nc).publish('keep.a', 'hello');
    await nc.close();
    await first.stop();
    // The keys are secrets: only the owner may read them.
    expect((await stat(join(storeDir, 'auth', 'identities.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(storeDir, 'auth'))).mode & 0o777).toBe(0o700);

    const second = await startNatsServer({ storeDir });
    // Credentials minted before the restart still work: the same operator and accounts.
    const nc2 = await second.connect({ credentials: first.credentials });
    try {
      expect(second.buildSigningKey).toBe(first.buildSigningKey);
      const info = await (await jetstreamManager(nc2)).streams.info('KEEP');
      expect(info.state.messages).toBe(1);
    } finally {
      await nc2.close();
      await second.stop();
    }
  });

  it('reports a start failure with what the server printed', async () => {
    const blocker = await startNatsServer({ storeDir: join(dir, 'nats-a') });
    const port = Number(new URL(blocker.url).port);
    try {
      await expect(startNatsServer({ storeDir: join(dir, 'nats-b'), port })).rejects.toThrow(
        /exited with code/,
      );
    } finally {
      await blocker.stop();
    }
    expect(isAlive(process.pid)).toBe(true);
  });
});
