import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeploymentPhaseSchema,
  DeploymentStatusSchema,
  DeploymentTargetSchema,
} from '@deploysphere/contracts';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@deploysphere/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDb,
  type Db,
  DeploymentPhase,
  DeploymentStatus,
  DeploymentTarget,
  TeamRole,
} from '../src/index.js';
import { migrate } from '../src/migrator.js';

// Proves schema.prisma and the SQL migrations describe the same database: every model's every
// field is written through the generated client, read back equal, and matches a real column.

let dir: string;
let server: EmbeddedPostgresHandle;
let db: Db;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-roundtrip-'));
  server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
  await migrate(server.url);
  db = createDb(server.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function columnsOf(table: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ column_name: string }[]>`
    SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${table}`;
  return rows.map((r) => r.column_name).sort();
}

async function enumValues(name: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ enumlabel: string }[]>`
    SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = ${name}
    ORDER BY e.enumsortorder`;
  return rows.map((r) => r.enumlabel);
}

describe('schema.prisma and the migrated database agree', () => {
  it('round-trips every field of every model', async () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    const project = {
      id: 'prj_roundtrip',
      slug: 'round-trip',
      teamId: 'team_roundtrip',
      repoUrl: 'https://example.com/a/b.git',
      gitRef: 'main',
      installCommand: 'npm ci',
      buildCommand: 'npm run build',
      ignoreCommand: 'git diff --quiet HEAD^ HEAD -- .',
      outputDir: 'dist',
      rootDir: 'apps/web',
      regions: ['eu-west-1', 'us-east-1'],
      buildCacheEnabled: false,
      retainReadyPerBranch: 5,
      previewMaxAgeDays: 14,
      buildCacheExpiryDays: 3,
      protectionMode: 'password',
      protectionProduction: true,
      protectionPasswordHash: 'scrypt$32768$8$1$salt$hash',
      protectionEpoch: 4,
      productionDeploymentId: 'abcdefghijklmnopqrstuvwx',
      createdAt: now,
      updatedAt: now,
    };
    const envVar = {
      projectId: project.id,
      key: 'API_KEY',
      ciphertext: 'v1:abc',
      createdAt: now,
      updatedAt: now,
    };
    const deployment = {
      id: 'abcdefghijklmnopqrstuvwx',
      projectId: project.id,
      status: DeploymentStatus.ready,
      phase: DeploymentPhase.activate,
      gitRef: 'a'.repeat(40),
      commitSha: 'a'.repeat(40),
      target: DeploymentTarget.preview,
      source: 'cli' as const,
      branch: 'feature/login',
      commitMessage: 'Add the login page\n\nWith a body.',
      commitAuthor: 'Ada Lovelace <ada@example.com>',
      regions: ['eu-west-1', 'us-east-1'],
      outputDir: 'dist',
      error: 'none',
      skipReason: 'the ignored build step exited 0',
      files: 12,
      bytes: 12_345_678_901n,
      uploadedBytes: 42n,
      totalBytes: 4242n,
      phaseDurationsMs: { clone: 1, install: 2 },
      withoutCache: true,
      preset: { id: 'vite', reason: 'dependency vite' },
      cache: { restored: 'exact', restoredBytes: 1234 },
      cloneBytes: 98_765n,
      runnerKind: 'ecs',
      runnerRegion: 'ap-southeast-1',
      runnerTaskArn: 'arn:aws:ecs:ap-southeast-1:000000000000:task/builds/0123456789abcdef',
      runnerAttempt: 2,
      runnerOwner: 'cp-0123',
      runnerLeaseUntil: now,
      bootstrapTokenHash: 'b'.repeat(64),
      bootstrapExpiresAt: now,
      buildTokenHash: 'c'.repeat(64),
      createdAt: now,
      startedAt: now,
      finishedAt: now,
      lastHeartbeatAt: now,
      lastEventSeq: 7,
      pullRequest: 42,
      expiredAt: now,
      expiredReason: 'keep-last',
    };
    const cliManifest = { deploymentId: deployment.id, manifest: { v: 1, files: {} }, createdAt: now };
    const domain = { hostname: 'www.example.com', projectId: project.id, createdAt: now };
    const webhook = {
      id: 'hookroundtrip000000000000',
      projectId: project.id,
      provider: 'github',
      secretCiphertext: 'v1:iv:tag:data',
      createdAt: now,
      rotatedAt: now,
      apiUrl: 'https://gitea.example/api/v1',
      apiTokenCiphertext: 'v1:iv:tag:token',
    };
    const delivery = {
      id: 'deliveryroundtrip0000000',
      projectId: project.id,
      provider: 'github',
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      event: 'push',
      outcome: 'deployed',
      reason: 'deployed abcdefghijklmnopqrstuvwx',
      deploymentId: deployment.id,
      branch: 'feature/login',
      commitSha: 'a'.repeat(40),
      receivedAt: now,
    };
    const alias = {
      hostname: 'round-trip-git-feature-login.localhost',
      projectId: project.id,
      branch: 'feature/login',
      deploymentId: deployment.id,
      updatedAt: now,
    };

    const team = {
      id: 'team_roundtrip',
      slug: 'round-trip-team',
      name: 'Round trip',
      maxProjects: 7,
      createdAt: now,
    };
    await db.team.create({ data: team });
    await db.project.create({ data: project });
    const user = {
      id: 'userroundtrip00000000000',
      email: 'rt@example.com',
      name: 'Round Trip',
      passwordHash: 'scrypt$32768$8$1$salt$hash',
      failedSignIns: 2,
      signInBlockedUntil: now,
      createdAt: now,
    };
    await db.user.create({ data: user });
    const membership = { teamId: team.id, userId: user.id, role: TeamRole.viewer, createdAt: now };
    await db.membership.create({ data: membership });
    const invitation = {
      id: 'invroundtrip000000000000',
      teamId: team.id,
      email: 'new@example.com',
      role: TeamRole.member,
      tokenHash: 'i'.repeat(64),
      expiresAt: now,
      acceptedAt: now,
      createdAt: now,
    };
    await db.invitation.create({ data: invitation });
    const userSession = {
      id: 'sessroundtrip00000000000',
      userId: user.id,
      secretHash: 's'.repeat(64),
      createdAt: now,
      expiresAt: now,
      revokedAt: now,
      ip: '192.0.2.1',
      userAgent: 'test',
    };
    await db.userSession.create({ data: userSession });
    const apiToken = {
      id: 'tokroundtrip000000000000',
      userId: user.id,
      name: 'ci',
      tokenHash: 't'.repeat(64),
      scopes: ['read', 'deploy'],
      teamId: team.id,
      projectId: project.id,
      expiresAt: now,
      lastUsedAt: now,
      revokedAt: now,
      createdAt: now,
    };
    await db.apiToken.create({ data: apiToken });
    const identity = { provider: 'okta', subject: 'sub-1', userId: user.id, createdAt: now };
    await db.oidcIdentity.create({ data: identity });
    const reset = {
      id: 'resetroundtrip0000000000',
      userId: user.id,
      tokenHash: 'r'.repeat(64),
      expiresAt: now,
      usedAt: now,
      createdAt: now,
    };
    await db.passwordReset.create({ data: reset });
    await db.envVar.create({ data: envVar });
    await db.deployment.create({ data: deployment });
    await db.cliDeployManifest.create({ data: cliManifest });
    const pendingBlob = {
      deploymentId: deployment.id,
      region: 'eu-west-1',
      hash: 'c'.repeat(64),
      size: 2_000_000_000,
    };
    await db.cliPendingBlob.create({ data: pendingBlob });
    await db.customDomain.create({ data: domain });
    await db.gitWebhook.create({ data: webhook });
    await db.webhookDelivery.create({ data: delivery });
    await db.branchAlias.create({ data: alias });
    const notice = {
      deploymentId: deployment.id,
      projectId: project.id,
      provider: 'github',
      repo: 'acme/site',
      sha: 'a'.repeat(40),
      pullRequest: 42,
      lastState: 'success',
      createdAt: now,
    };
    const prComment = {
      projectId: project.id,
      provider: 'github',
      repo: 'acme/site',
      pullRequest: 42,
      commentId: '1001',
      updatedAt: now,
    };
    const credential = {
      projectId: project.id,
      kind: 'ssh',
      username: null,
      secretCiphertext: 'v1:iv:tag:key',
      publicKey: 'ssh-ed25519 AAAA deploysphere-round-trip',
      knownHosts: 'github.com ssh-ed25519 AAAA',
      createdAt: now,
      updatedAt: now,
    };
    const deployHook = {
      id: 'deployhookroundtrip00000',
      projectId: project.id,
      name: 'CMS',
      branch: 'main',
      secretHash: 'd'.repeat(64),
      createdAt: now,
      lastTriggeredAt: now,
    };
    const watchPaths = { projectId: project.id, paths: ['apps/web', '!**/*.md'], updatedAt: now };
    await db.gitCommitNotice.create({ data: notice });
    await db.pullRequestComment.create({ data: prComment });
    await db.gitCredential.create({ data: credential });
    await db.deployHook.create({ data: deployHook });
    await db.projectWatchPaths.create({ data: watchPaths });
    const gcRun = {
      id: 'gc_roundtrip',
      status: 'completed',
      dryRun: true,
      trigger: 'api',
      holder: 'cp-1',
      leaseExpiresAt: now,
      resumes: 1,
      progress: { regions: { 'us-east-1': { step: 'done' } } },
      report: { expiredDeployments: [], routeRecordsDeleted: 0, regions: [] },
      error: 'none',
      startedAt: now,
      finishedAt: now,
    };
    await db.gcRun.create({ data: gcRun });
    const claim = await db.uploadClaim.create({
      data: { deploymentId: deployment.id, hashes: ['a'.repeat(64)], createdAt: now },
    });
    const grantedBlob = await db.grantedBlob.create({
      data: { region: 'us-east-1', bucket: 'sites', hash: 'b'.repeat(64), grantedAt: now },
    });

    const cases = [
      ['Project', await db.project.findUniqueOrThrow({ where: { id: project.id } }), project],
      [
        'EnvVar',
        await db.envVar.findUniqueOrThrow({
          where: { projectId_key: { projectId: project.id, key: 'API_KEY' } },
        }),
        envVar,
      ],
      ['Deployment', await db.deployment.findUniqueOrThrow({ where: { id: deployment.id } }), deployment],
      [
        'CliDeployManifest',
        await db.cliDeployManifest.findUniqueOrThrow({ where: { deploymentId: deployment.id } }),
        cliManifest,
      ],
      [
        'CliPendingBlob',
        await db.cliPendingBlob.findUniqueOrThrow({
          where: {
            deploymentId_region_hash: {
              deploymentId: deployment.id,
              region: 'eu-west-1',
              hash: 'c'.repeat(64),
            },
          },
        }),
        pendingBlob,
      ],
      [
        'CustomDomain',
        await db.customDomain.findUniqueOrThrow({ where: { hostname: domain.hostname } }),
        domain,
      ],
      ['GitWebhook', await db.gitWebhook.findUniqueOrThrow({ where: { id: webhook.id } }), webhook],
      [
        'WebhookDelivery',
        await db.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } }),
        delivery,
      ],
      ['BranchAlias', await db.branchAlias.findUniqueOrThrow({ where: { hostname: alias.hostname } }), alias],
      [
        'GitCommitNotice',
        await db.gitCommitNotice.findUniqueOrThrow({ where: { deploymentId: deployment.id } }),
        notice,
      ],
      [
        'PullRequestComment',
        await db.pullRequestComment.findUniqueOrThrow({
          where: {
            projectId_provider_repo_pullRequest: {
              projectId: project.id,
              provider: 'github',
              repo: 'acme/site',
              pullRequest: 42,
            },
          },
        }),
        prComment,
      ],
      [
        'GitCredential',
        await db.gitCredential.findUniqueOrThrow({ where: { projectId: project.id } }),
        credential,
      ],
      ['DeployHook', await db.deployHook.findUniqueOrThrow({ where: { id: deployHook.id } }), deployHook],
      [
        'ProjectWatchPaths',
        await db.projectWatchPaths.findUniqueOrThrow({ where: { projectId: project.id } }),
        watchPaths,
      ],
      ['GcRun', await db.gcRun.findUniqueOrThrow({ where: { id: gcRun.id } }), gcRun],
      ['UploadClaim', await db.uploadClaim.findUniqueOrThrow({ where: { id: claim.id } }), claim],
      [
        'GrantedBlob',
        await db.grantedBlob.findUniqueOrThrow({
          where: { region_bucket_hash: { region: 'us-east-1', bucket: 'sites', hash: 'b'.repeat(64) } },
        }),
        grantedBlob,
      ],
      ['Team', await db.team.findUniqueOrThrow({ where: { id: team.id } }), team],
      ['User', await db.user.findUniqueOrThrow({ where: { id: user.id } }), user],
      [
        'Membership',
        await db.membership.findUniqueOrThrow({
          where: { teamId_userId: { teamId: team.id, userId: user.id } },
        }),
        membership,
      ],
      ['Invitation', await db.invitation.findUniqueOrThrow({ where: { id: invitation.id } }), invitation],
      ['UserSession', await db.userSession.findUniqueOrThrow({ where: { id: userSession.id } }), userSession],
      ['ApiToken', await db.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } }), apiToken],
      [
        'OidcIdentity',
        await db.oidcIdentity.findUniqueOrThrow({
          where: { provider_subject: { provider: 'okta', subject: 'sub-1' } },
        }),
        identity,
      ],
      ['PasswordReset', await db.passwordReset.findUniqueOrThrow({ where: { id: reset.id } }), reset],
    ] as const;

    for (const [table, read, written] of cases) {
      // @updatedAt overrides what we wrote, so compare it only for presence.
      const { updatedAt: _r, ...readRest } = read as Record<string, unknown>;
      const { updatedAt: _w, ...writtenRest } = written as Record<string, unknown>;
      expect(readRest, table).toEqual(writtenRest);
      expect(Object.keys(read).sort(), `${table}: client fields vs. database columns`).toEqual(
        await columnsOf(table),
      );
    }
  });

  it('nullable fields accept null', async () => {
    await db.project.create({
      data: {
        id: 'prj_nulls',
        slug: 'nulls',
        repoUrl: 'x',
        installCommand: null,
        buildCommand: null,
        regions: ['us-east-1'],
      },
    });
    const d = await db.deployment.create({
      data: { id: 'zyxwvutsrqponmlkjihgfedc', projectId: 'prj_nulls', regions: [] },
    });
    expect(d).toMatchObject({
      status: 'queued',
      phase: null,
      commitSha: null,
      bytes: null,
      phaseDurationsMs: null,
      runnerKind: null,
      runnerAttempt: 0,
      runnerOwner: null,
      runnerLeaseUntil: null,
      withoutCache: false,
      target: 'production',
      branch: null,
      commitMessage: null,
      commitAuthor: null,
    });
  });

  it('writes and reads a skipped deployment with its reason', async () => {
    const d = await db.deployment.create({
      data: {
        id: 'skippedroundtrip00000000',
        projectId: 'prj_nulls',
        regions: [],
        status: DeploymentStatus.skipped,
        skipReason: 'none of the 1 changed file matches the watch paths',
      },
    });
    expect(d).toMatchObject({ status: 'skipped', skipReason: expect.stringContaining('watch paths') });
    const p = await db.project.findUniqueOrThrow({ where: { id: 'prj_nulls' } });
    expect(p.ignoreCommand).toBeNull();
  });

  it('has the enums the contracts define, in the same order', async () => {
    expect(await enumValues('DeploymentStatus')).toEqual(DeploymentStatusSchema.options);
    expect(Object.values(DeploymentStatus)).toEqual(DeploymentStatusSchema.options);
    expect(await enumValues('DeploymentPhase')).toEqual(DeploymentPhaseSchema.options);
    expect(Object.values(DeploymentPhase)).toEqual(DeploymentPhaseSchema.options);
    expect(await enumValues('DeploymentTarget')).toEqual(DeploymentTargetSchema.options);
    expect(Object.values(DeploymentTarget)).toEqual(DeploymentTargetSchema.options);
  });
});
