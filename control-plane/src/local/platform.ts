import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorageTarget } from '@deploysphere/contracts';
import { migrate } from '@deploysphere/db';
import { startLocalEdge } from '@deploysphere/edge/local';
import {
  ensurePrograms,
  freePort,
  localPlatformPrograms,
  S3RVER_CREDENTIALS,
  startEmbeddedPostgres,
  startNatsServer,
  startPrometheus,
  startS3rver,
  type EcsEndpoint,
} from '@deploysphere/stack';
import Fastify, { type FastifyInstance } from 'fastify';
import { app, BODY_LIMIT_BYTES } from '../app.js';
import { loadControlPlaneConfig, storageTargetEnv, type ControlPlaneConfig } from '../config.js';
import { createContext } from '../create-context.js';
import { ecsEnvPrefix, ecsSettingsEnv } from '../pipeline/ecs/ecs-settings.js';
import { workerStaticEnv } from '../pipeline/worker-launch.js';
import { LOCAL_ECS_CREDENTIALS, startLocalEcs } from './local-ecs.js';
import {
  generateAdminToken,
  generateEncryptionKey,
  generateProtectionKey,
  persistedSecret,
} from './persisted-secret.js';
import type { LocalPlatformConfig } from './config.js';
import { assertPortFree } from './ports.js';
import { redactUrl, StartupError } from './startup-error.js';

export interface PlatformHandle {
  controlPlaneUrl: string;
  edgeUrl: string;
  /** The embedded Prometheus, or PROMETHEUS_URL when that names an existing one. */
  prometheusUrl: string;
  /** How a project's production URL looks, e.g. http://<slug>.localhost:8787 */
  siteUrlPattern: string;
  adminToken: string;
  config: ControlPlaneConfig;
  fastify: FastifyInstance;
  /** With BUILD_RUNNER=ecs and no ECS settings: the local ECS endpoint of each region. */
  ecsEndpoints: EcsEndpoint[];
  stop(): Promise<void>;
}

/** One line per component as it comes up: what it is and how long it took. */
export type Progress = (component: string, detail: string, ms: number) => void;

type Stopper = { name: string; stop: () => Promise<void> };

/**
 * Brings up the whole platform on one machine. Each dependency is the configured service when
 * its setting is present, else an embedded one with its data under DATA_DIR on a free port.
 * On any failure everything already started is stopped again before the error propagates.
 */
export async function startPlatform(
  config: LocalPlatformConfig,
  progress: Progress = () => {},
): Promise<PlatformHandle> {
  const dataDir = config.DATA_DIR;
  // Paths inside the working directory are shown relative to it, anything else in full.
  const shown = (p: string) => {
    const rel = relative(process.cwd(), p);
    return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
  };
  const started: Stopper[] = [];
  // In reverse start order: the control plane (and its NATS and database clients) before the
  // servers it uses. One that fails to stop is reported and the rest still stop.
  const stopAll = async () => {
    for (const s of started.splice(0).reverse()) {
      await s.stop().catch((err: unknown) => {
        process.stderr.write(
          `${s.name} did not stop cleanly: ${err instanceof Error ? err.message : String(err)}\n`,
        );
      });
    }
  };

  // Started beside other steps; a failure elsewhere waits for it, so its children get stopped.
  let prometheusStarted: Promise<string> | undefined;
  const step = async <T>(component: string, run: () => Promise<[T, string]>): Promise<T> => {
    const t0 = performance.now();
    const [value, detail] = await run();
    progress(component, detail, performance.now() - t0);
    return value;
  };

  try {
    await mkdir(dataDir, { recursive: true });
    // Before anything starts: one apt-get for everything missing, so the first deployment on a
    // fresh machine does not fail for want of bubblewrap.
    await step('system packages', async () => {
      const programs = localPlatformPrograms({
        embeddedNats: !config.NATS_URL,
        sandboxedBuilds: !config.ALLOW_UNSANDBOXED_BUILDS,
        embeddedPrometheus: !config.PROMETHEUS_URL,
      });
      const notes: string[] = [];
      const found = await ensurePrograms(programs, (line) => notes.push(line));
      return [undefined, [...notes, [...found.values()].join(', ') || 'none needed'].join('; ')];
    });
    await assertPortFree('PORT', config.HOST, config.PORT);
    await assertPortFree('EDGE_PORT', config.HOST, config.EDGE_PORT);
    // Port 0 means "any free port" (tests, side-by-side runs); resolve it now, because the edge
    // and the control plane must know each other's URL before either listens.
    const port = config.PORT || (await freePort(config.HOST));
    const edgePort = config.EDGE_PORT || (await freePort(config.HOST));
    const adminToken =
      config.DEPLOYSPHERE_ADMIN_TOKEN ?? (await persistedSecret(dataDir, 'admin-token', generateAdminToken));
    const envEncryptionKey =
      config.ENV_ENCRYPTION_KEY ??
      Buffer.from(await persistedSecret(dataDir, 'env-encryption-key', generateEncryptionKey), 'base64');
    // Protected previews: one key for the control plane's grants and the edge's cookies. Deleting
    // the file rotates it at the next start, which signs every visitor out of protected hosts.
    const protectionKey = await persistedSecret(dataDir, 'protection-signing-key', generateProtectionKey);

    const databaseUrl = step('postgres', async () => {
      if (config.DATABASE_URL) return [config.DATABASE_URL, `configured ${redactUrl(config.DATABASE_URL)}`];
      const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres') });
      started.push({ name: 'postgres', stop: pg.stop });
      return [pg.url, `embedded on ${new URL(pg.url).host}, data in ${shown(join(dataDir, 'postgres'))}`];
    });

    const natsSetup = step(
      'nats',
      async (): Promise<[{ url: string; env: Record<string, string> }, string]> => {
        // With NATS_URL, its credentials came with the rest of the control plane's variables.
        if (config.NATS_URL) {
          return [{ url: config.NATS_URL, env: {} }, `configured ${redactUrl(config.NATS_URL)}`];
        }
        // Operator mode with keys kept in the store; the control plane gets its own user and the
        // key it mints build users with, in the same variables a production control plane reads.
        const storeDir = join(dataDir, 'nats');
        const nats = await startNatsServer({ storeDir });
        started.push({ name: 'nats', stop: nats.stop });
        // Next to the keys it was made from (identities.json), with the same mode.
        const credsFile = join(storeDir, 'auth', 'control-plane.creds');
        await writeFile(credsFile, nats.credentials, { mode: 0o600 });
        return [
          {
            url: nats.url,
            env: { NATS_CREDS_FILE: credsFile, NATS_BUILD_SIGNING_KEY: nats.buildSigningKey },
          },
          `embedded JetStream on ${new URL(nats.url).host}, store in ${shown(storeDir)}, JWT auth`,
        ];
      },
    );

    const storage = Promise.all(
      config.storage.map((s) =>
        step(`s3 ${s.region}`, async (): Promise<[StorageTarget, string]> => {
          if (s.endpoint) {
            return [{ ...s, bucket: s.bucket! }, `configured ${s.endpoint} bucket ${s.bucket}`];
          }
          if (s.bucket) {
            return [{ ...s, bucket: s.bucket }, `AWS S3 bucket ${s.bucket}`];
          }
          const bucket = `deploysphere-${s.region}`;
          const directory = join(dataDir, 's3', s.region);
          const server = await startS3rver({ directory, buckets: [bucket], host: config.HOST });
          started.push({ name: `s3 ${s.region}`, stop: server.stop });
          return [
            {
              region: s.region,
              endpoint: server.endpoint,
              bucket,
              forcePathStyle: true,
              ...S3RVER_CREDENTIALS,
            },
            `embedded s3rver on ${new URL(server.endpoint).host}, bucket ${bucket}`,
          ];
        }),
      ),
    );

    // Settled together so one failure does not leave the others' children unrecorded.
    const [dbResult, natsResult, storageResult] = await Promise.allSettled([databaseUrl, natsSetup, storage]);
    for (const r of [dbResult, natsResult, storageResult]) if (r.status === 'rejected') throw r.reason;
    const resolvedDb = (dbResult as PromiseFulfilledResult<string>).value;
    const resolvedNats = (natsResult as PromiseFulfilledResult<{ url: string; env: Record<string, string> }>)
      .value;
    const targets = (storageResult as PromiseFulfilledResult<StorageTarget[]>).value;

    await step('migrations', async () => {
      try {
        const { applied } = await migrate(resolvedDb);
        return [undefined, applied.length ? `applied ${applied.join(', ')}` : 'up to date'];
      } catch (err) {
        if (!config.DATABASE_URL) throw err;
        throw new StartupError(
          'DATABASE_URL',
          `DATABASE_URL=${redactUrl(config.DATABASE_URL)} could not be used: ${(err as Error).message || String(err)}. ` +
            'Check the host, port, credentials and database name, or unset DATABASE_URL to use the embedded PostgreSQL.',
          { cause: err },
        );
      }
    });

    const controlPlaneUrl = `http://${displayHost(config.HOST)}:${port}`;
    // Alongside the rest of the start: it only needs the control plane's port and the database,
    // and scrapes the control plane once that listens. Awaited before returning.
    const prometheus = (prometheusStarted = step('prometheus', () =>
      startLocalPrometheus(config, port, resolvedDb, started, shown),
    ));
    prometheus.catch(() => undefined); // awaited below; this only keeps an early failure handled
    // The edge proves itself to the control plane with a token derived from the admin token,
    // so the admin token itself never sits in the worker's environment.
    const edgeMetricsToken = createHash('sha256').update(`edge-metrics:${adminToken}`).digest('hex');

    const edge = await step('edge', async () => {
      const regions = config.REGIONS.map((r) => {
        const t = targets.find((x) => x.region === r.id)!;
        return { ...r, endpoint: t.endpoint ?? `https://s3.${r.id}.amazonaws.com`, bucket: t.bucket };
      });
      const first = targets[0]!;
      const handle = await startLocalEdge({
        host: config.HOST,
        port: edgePort,
        kvPersistDir: join(dataDir, 'edge-kv'),
        rootDomain: config.ROOT_DOMAIN,
        regions,
        devMode: true,
        metricsUrl: controlPlaneUrl,
        metricsToken: edgeMetricsToken,
        // Locally the traffic chart should move while you watch; production batches every 10 s.
        metricsFlushIntervalMs: 2_000,
        s3Credentials: {
          accessKeyId: first.accessKeyId ?? '',
          secretAccessKey: first.secretAccessKey ?? '',
        },
        protection: { signingKey: protectionKey, authUrl: controlPlaneUrl },
      });
      started.push({ name: 'edge', stop: handle.stop });
      return [
        handle,
        `workerd via Miniflare on ${new URL(handle.url).host}, KV in ${shown(join(dataDir, 'edge-kv'))}`,
      ];
    });

    // The control plane is configured as a standalone one is, by the same function from the same
    // variables: the user's shared settings, then what was resolved above for each service.
    const cpEnv: Record<string, string> = {
      ...config.controlPlaneEnv,
      HOST: config.HOST,
      PORT: String(port),
      LOG_LEVEL: config.LOG_LEVEL,
      DATABASE_URL: resolvedDb,
      NATS_URL: resolvedNats.url,
      ...resolvedNats.env,
      ...(config.CLICKHOUSE_URL
        ? { CLICKHOUSE_URL: config.CLICKHOUSE_URL }
        : { CLICKHOUSE_CHDB_PATH: join(dataDir, 'clickhouse') }),
      // s3rver lists at the price of a HEAD per object: presence by HEADs (config.ts says why).
      ...(config.storage.some((s) => !s.endpoint && !s.bucket) &&
      config.controlPlaneEnv.BLOB_PRESENCE_LISTING === undefined
        ? { BLOB_PRESENCE_LISTING: 'false' }
        : {}),
      SITES_PROTOCOL: 'http',
      SITES_PORT: String(edgePort),
      ENV_ENCRYPTION_KEY: envEncryptionKey.toString('base64'),
      BUILD_WORK_DIR: join(dataDir, 'builds'),
      EDGE_URL: edge.url,
      EDGE_METRICS_TOKEN: edgeMetricsToken,
      PROTECTION_SIGNING_KEY: protectionKey,
      DEPLOYSPHERE_ADMIN_TOKEN: adminToken,
      ALLOW_LOCAL_REPOS: String(config.ALLOW_LOCAL_REPOS),
      ...Object.assign({}, ...targets.map(storageTargetEnv)),
    };
    const cpConfig = loadControlPlaneConfig(cpEnv);

    const ecs = await startEcsIfWanted(
      config,
      cpConfig,
      controlPlaneUrl,
      (name, run) => step(name, run),
      started,
    );
    const finalConfig = ecs.env ? loadControlPlaneConfig({ ...cpEnv, ...ecs.env }) : cpConfig;

    const fastify = await step('control plane', async () => {
      const ctx = await createContext(finalConfig, edge.routes);
      const instance = Fastify({
        logger: { level: config.LOG_LEVEL },
        bodyLimit: BODY_LIMIT_BYTES,
        forceCloseConnections: true,
      });
      instance.addHook('onClose', () => ctx.close());
      started.push({ name: 'control plane', stop: () => instance.close() });
      await instance.register(app, ctx);
      try {
        await instance.listen({ host: config.HOST, port });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new StartupError(
            'PORT',
            `PORT=${config.PORT} is already in use on ${config.HOST}. Stop whatever listens there, or set PORT to a free port.`,
          );
        }
        throw err;
      }
      const ch =
        'url' in finalConfig.clickhouse
          ? `ClickHouse ${finalConfig.clickhouse.url}`
          : `chDB in ${shown(finalConfig.clickhouse.chdbPath)}`;
      return [instance, `Fastify on ${controlPlaneUrl}, ${ch}`];
    });

    const prometheusUrl = await prometheus;
    return {
      controlPlaneUrl,
      edgeUrl: edge.url,
      prometheusUrl,
      siteUrlPattern: `http://<slug>.${config.ROOT_DOMAIN}:${edgePort}`,
      adminToken,
      config: finalConfig,
      fastify,
      ecsEndpoints: ecs.endpoints,
      stop: stopAll,
    };
  } catch (err) {
    await prometheusStarted?.catch(() => undefined);
    await stopAll();
    throw err;
  }
}

/**
 * With BUILD_RUNNER=ecs, every build goes through the real ECS SDK. Regions with ECS settings of
 * their own use them; without any, each region gets a local ECS endpoint (stack/src/ecs-endpoint)
 * whose one task definition runs this machine's build worker with the static environment a
 * Fargate task definition would hold.
 */
async function startEcsIfWanted(
  config: LocalPlatformConfig,
  cpConfig: ControlPlaneConfig,
  controlPlaneUrl: string,
  step: <T>(component: string, run: () => Promise<[T, string]>) => Promise<T>,
  started: Stopper[],
): Promise<{ env?: Record<string, string>; endpoints: EcsEndpoint[] }> {
  if (config.BUILD_RUNNER !== 'ecs') return { endpoints: [] };
  const configured = config.REGIONS.some((r) => config.controlPlaneEnv[`${ecsEnvPrefix(r.id)}CLUSTER`]);
  if (configured) return { env: { BUILD_RUNNER: 'ecs' }, endpoints: [] };
  const staticEnv = workerStaticEnv({
    controlPlaneUrl,
    limits: cpConfig.build,
    natsTlsCaFile: cpConfig.natsAuth.tlsCaFile,
  });
  const env: Record<string, string> = {
    BUILD_RUNNER: 'ecs',
    ECS_ACCESS_KEY_ID: LOCAL_ECS_CREDENTIALS.accessKeyId,
    ECS_SECRET_ACCESS_KEY: LOCAL_ECS_CREDENTIALS.secretAccessKey,
  };
  const endpoints: EcsEndpoint[] = [];
  for (const region of config.REGIONS) {
    await step(`ecs ${region.id}`, async () => {
      const local = await startLocalEcs(region.id, {
        staticEnv,
        logDir: join(config.DATA_DIR, 'ecs'),
      });
      started.push({ name: `ecs ${region.id}`, stop: local.endpoint.stop });
      endpoints.push(local.endpoint);
      Object.assign(env, ecsSettingsEnv(local.settings));
      return [undefined, `local ECS endpoint on ${new URL(local.endpoint.url).host}`];
    });
  }
  return { env, endpoints };
}

/** The alert rules in observability/, which the local Prometheus evaluates as production's does. */
const RULE_FILES = fileURLToPath(new URL('../../../observability/*.rules.yml', import.meta.url));

/**
 * Prometheus for `npm start`: with PROMETHEUS_URL, that one (it scrapes what its own config
 * names); otherwise an embedded one with its TSDB in DATA_DIR/prometheus, scraping this control
 * plane, node_exporter and postgres_exporter, and evaluating observability/'s alert rules.
 */
async function startLocalPrometheus(
  config: LocalPlatformConfig,
  port: number,
  databaseUrl: string,
  started: Stopper[],
  shown: (path: string) => string,
): Promise<[string, string]> {
  if (config.PROMETHEUS_URL) return [config.PROMETHEUS_URL, `configured ${redactUrl(config.PROMETHEUS_URL)}`];
  const dataDir = join(config.DATA_DIR, 'prometheus');
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : displayHost(config.HOST);
  const prometheus = await startPrometheus({
    dataDir,
    jobs: [{ job: 'control-plane', targets: [`${host}:${port}`] }],
    postgresUrl: databaseUrl,
    ruleFiles: [RULE_FILES],
  });
  started.push({ name: 'prometheus', stop: prometheus.stop });
  return [
    prometheus.url,
    `embedded on ${new URL(prometheus.url).host}, with node_exporter and postgres_exporter, data in ${shown(dataDir)}`,
  ];
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
}
