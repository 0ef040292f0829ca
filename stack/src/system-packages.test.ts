import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUBBLEWRAP,
  ensurePrograms,
  findProgram,
  localPlatformPrograms,
  MissingProgramsError,
  NATS_SERVER,
} from './system-packages.js';

// The programs are made unfindable through an injected search path, never uninstalled: other
// tests on this machine are using them.
let empty: string;
beforeAll(async () => {
  empty = await mkdtemp(join(tmpdir(), 'ds-no-programs-'));
});
afterAll(async () => {
  await rm(empty, { recursive: true, force: true });
});

describe('the local platform ensures its programs', () => {
  it('needs bubblewrap for sandboxed builds and nats-server when NATS is embedded', () => {
    expect(localPlatformPrograms({ embeddedNats: true, sandboxedBuilds: true })).toEqual([
      NATS_SERVER,
      BUBBLEWRAP,
    ]);
    expect(localPlatformPrograms({ embeddedNats: false, sandboxedBuilds: true })).toEqual([BUBBLEWRAP]);
    expect(localPlatformPrograms({ embeddedNats: false, sandboxedBuilds: false })).toEqual([]);
  });

  it('needs Prometheus and both exporters unless PROMETHEUS_URL names one', () => {
    expect(
      localPlatformPrograms({ embeddedNats: false, sandboxedBuilds: false, embeddedPrometheus: true }).map(
        (p) => p.debianPackage,
      ),
    ).toEqual(['prometheus', 'prometheus-node-exporter', 'prometheus-postgres-exporter']);
  });

  it('names every missing program and the exact apt-get command when it may not install', async () => {
    const programs = localPlatformPrograms({ embeddedNats: true, sandboxedBuilds: true });
    const err = await ensurePrograms(programs, () => {}, { searchPath: [empty], canInstall: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MissingProgramsError);
    expect((err as MissingProgramsError).missing.map((p) => p.binary)).toEqual(['nats-server', 'bwrap']);
    expect((err as Error).message).toContain(
      "apt-get update && apt-get install -y --no-install-recommends nats-server bubblewrap'",
    );
  });

  it('finds a program only in its search path', async () => {
    expect(await findProgram('sh', [empty])).toBeUndefined();
    expect(await findProgram('sh', [empty, '/bin'])).toBe('/bin/sh');
  });

  it('returns the path of each program that is present without installing anything', async () => {
    const found = await ensurePrograms([{ binary: 'sh', debianPackage: 'dash' }], () => {}, {
      searchPath: ['/bin'],
      canInstall: false,
    });
    expect(found.get('sh')).toBe('/bin/sh');
  });
});
