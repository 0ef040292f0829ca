import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stopChild, TailBuffer } from '../child-process.js';
import { freePort } from '../ports.js';
import {
  ensurePrograms,
  findProgram,
  NODE_EXPORTER,
  POSTGRES_EXPORTER,
  PROMETHEUS,
  PROMETHEUS_PROGRAMS,
} from '../system-packages.js';

/** One scrape job of the generated prometheus.yml. */
export interface ScrapeJob {
  job: string;
  /** host:port of each target. */
  targets: string[];
  metricsPath?: string;
}

export interface EmbeddedPrometheus {
  /** http://127.0.0.1:<port>, the HTTP API and UI. */
  url: string;
  /** The scrape jobs it was configured with, its own exporters' included. */
  jobs: ScrapeJob[];
  /** Stops Prometheus and its exporters; resolves once every process has exited. */
  stop(): Promise<void>;
}

/** How long a child may take to answer on its port before its start counts as failed. */
const READY_DEADLINE_MS = 30_000;

/**
 * The local platform's Prometheus, with node_exporter (host CPU, memory, disk, network) and, when
 * `postgresUrl` is given, postgres_exporter: each a Debian package's binary on a free loopback
 * port, installed when missing and we run as root. Prometheus keeps its TSDB in
 * `dataDir/data`, so a restart on the same directory keeps the history. `jobs` are scraped besides
 * the exporters; `ruleFiles` (paths or globs) are loaded as alerting and recording rules.
 *
 * The database URL reaches postgres_exporter in its environment, never in argv (visible in ps).
 */
export async function startPrometheus(opts: {
  dataDir: string;
  jobs: ScrapeJob[];
  postgresUrl?: string;
  ruleFiles?: string[];
  scrapeIntervalSeconds?: number;
  log?: (line: string) => void;
}): Promise<EmbeddedPrometheus> {
  const binaries = await ensurePrograms(PROMETHEUS_PROGRAMS, opts.log);
  const children: Child[] = [];
  const stop = async () => {
    for (const c of children.splice(0).reverse()) await stopChild(c.process);
  };
  try {
    const nodePort = await freePort();
    children.push(
      await startChild('node_exporter', binaries.get(NODE_EXPORTER.binary)!, {
        args: [`--web.listen-address=127.0.0.1:${nodePort}`],
        readyUrl: `http://127.0.0.1:${nodePort}/metrics`,
      }),
    );
    const jobs: ScrapeJob[] = [...opts.jobs, { job: 'node', targets: [`127.0.0.1:${nodePort}`] }];

    if (opts.postgresUrl) {
      const pgPort = await freePort();
      children.push(
        await startChild('postgres_exporter', binaries.get(POSTGRES_EXPORTER.binary)!, {
          args: [`--web.listen-address=127.0.0.1:${pgPort}`],
          env: { DATA_SOURCE_NAME: withSslModeDisabled(opts.postgresUrl) },
          readyUrl: `http://127.0.0.1:${pgPort}/metrics`,
        }),
      );
      jobs.push({ job: 'postgres', targets: [`127.0.0.1:${pgPort}`] });
    }

    const port = await freePort();
    await mkdir(join(opts.dataDir, 'data'), { recursive: true });
    const configFile = join(opts.dataDir, 'prometheus.yml');
    await writeFile(configFile, prometheusConfig({ ...opts, jobs }));
    const url = `http://127.0.0.1:${port}`;
    children.push(
      await startChild('prometheus', binaries.get(PROMETHEUS.binary)!, {
        args: [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${join(opts.dataDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        readyUrl: `${url}/-/ready`,
      }),
    );
    return { url, jobs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * prometheus.yml for these jobs. JSON is YAML, so no YAML library is needed; the file is
 * regenerated at every start (the ports change), only the TSDB next to it is kept.
 */
export function prometheusConfig(opts: {
  jobs: ScrapeJob[];
  ruleFiles?: string[];
  scrapeIntervalSeconds?: number;
}): string {
  const interval = `${opts.scrapeIntervalSeconds ?? 5}s`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: opts.jobs.map((j) => ({
      job_name: j.job,
      metrics_path: j.metricsPath ?? '/metrics',
      static_configs: [{ targets: j.targets }],
    })),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Embedded PostgreSQL speaks no TLS; lib/pq (postgres_exporter's driver) insists by default. */
function withSslModeDisabled(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('sslmode')) u.searchParams.set('sslmode', 'disable');
  return u.toString();
}

interface Child {
  process: ChildProcess;
}

/**
 * Spawns `binary`, stopped by the kernel if we die (setpriv's parent-death signal, as for
 * nats-server) and in a process group of its own (a terminal's Ctrl-C is ours to handle), then
 * waits until `readyUrl` answers 200, or fails with the child's last lines.
 */
async function startChild(
  name: string,
  binary: string,
  opts: { args: string[]; env?: Record<string, string>; readyUrl: string },
): Promise<Child> {
  const setpriv = await findProgram('setpriv');
  const [file, argv] = setpriv
    ? [setpriv, ['--pdeathsig', 'SIGTERM', '--', binary, ...opts.args]]
    : [binary, opts.args];
  const child = spawn(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
  });
  const tail = new TailBuffer();
  child.stdout.on('data', (c: Buffer) => tail.push(c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => tail.push(c.toString('utf8')));
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `${name} exited (${signal ?? code}):\n${tail.toString()}`));
  child.once('error', (err) => (exited = `${name} failed to start: ${err.message}`));

  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    if (exited) throw new Error(exited);
    const ok = await fetch(opts.readyUrl, { signal: AbortSignal.timeout(2_000) }).then(
      async (r) => {
        await r.body?.cancel();
        return r.ok;
      },
      () => false,
    );
    if (ok) return { process: child };
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(
        `${name} did not answer on ${opts.readyUrl} within ${READY_DEADLINE_MS / 1000} s:\n${tail.toString()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
