import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AMTOOL, ensurePrograms, PROMTOOL } from '@deploysphere/stack';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

// The alert rules and their `promtool test rules` unit tests, the production Prometheus config
// and the Alertmanager example, checked with the real promtool and amtool (Debian's packages).

const DIR = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);
let promtool: string;
let amtool: string;

interface RulesFile {
  groups: { name: string; rules: { alert?: string; record?: string }[] }[];
}
interface RulesTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

const ruleFiles = async () => (await readdir(DIR)).filter((f) => f.endsWith('.rules.yml')).sort();
const yamlOf = async <T>(file: string) => parse(await readFile(join(DIR, file), 'utf8')) as T;

/** Runs a tool; a failure carries its output, so a broken rule says what promtool said. */
async function tool(binary: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(binary, args, { cwd: DIR });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${binary} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

beforeAll(async () => {
  const found = await ensurePrograms([PROMTOOL, AMTOOL]);
  promtool = found.get(PROMTOOL.binary)!;
  amtool = found.get(AMTOOL.binary)!;
});

describe('alert rules', () => {
  it('cover every alert the platform promises', async () => {
    const alerts: string[] = [];
    for (const file of await ruleFiles()) {
      for (const g of (await yamlOf<RulesFile>(file)).groups)
        alerts.push(...g.rules.flatMap((r) => r.alert ?? []));
    }
    expect(alerts.sort()).toEqual(
      [
        'BuildErrorRateRising',
        'BuildQueueStuck',
        'ClickHouseInsertFailures',
        'DiskAlmostFull',
        'EdgeHigh5xxRatio',
        'EdgeMetricsSilent',
        'JetStreamConsumerLag',
        'RegionFailingHealth',
        'ScrapeTargetDown',
      ].sort(),
    );
  });

  it('pass promtool check rules', async () => {
    const files = await ruleFiles();
    const out = await tool(promtool, ['check', 'rules', ...files]);
    expect(out.match(/SUCCESS/g)?.length).toBe(files.length);
  });

  it.each(['builds', 'edge', 'host'])('%s: pass promtool test rules', async (name) => {
    const out = await tool(promtool, ['test', 'rules', `${name}.rules.test.yml`]);
    expect(out).toContain('SUCCESS');
  });

  it('each alert has a test where it fires and one where it does not', async () => {
    for (const file of await ruleFiles()) {
      const testFile = file.replace(/\.rules\.yml$/, '.rules.test.yml');
      const tests = await yamlOf<RulesTestFile>(testFile);
      expect(tests.rule_files).toEqual([file]);
      const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
      for (const g of (await yamlOf<RulesFile>(file)).groups) {
        for (const { alert } of g.rules) {
          if (!alert) continue;
          const mine = cases.filter((c) => c.alertname === alert);
          expect(
            mine.some((c) => (c.exp_alerts ?? []).length > 0),
            `${alert} fires in ${testFile}`,
          ).toBe(true);
          expect(
            mine.some((c) => (c.exp_alerts ?? []).length === 0),
            `${alert} stays quiet in ${testFile}`,
          ).toBe(true);
        }
      }
    }
  });

  it('fail promtool test rules when an alert is broken', async () => {
    // The test must be able to fail: the same tests against a rule that can never fire.
    const dir = await mkdtemp(join(tmpdir(), 'ds-rules-'));
    try {
      const rules = await readFile(join(DIR, 'host.rules.yml'), 'utf8');
      await writeFile(join(dir, 'host.rules.yml'), rules.replace('> 0.85', '> 0.99'));
      await writeFile(join(dir, 'host.rules.test.yml'), await readFile(join(DIR, 'host.rules.test.yml')));
      const failed = await run(promtool, ['test', 'rules', 'host.rules.test.yml'], { cwd: dir }).then(
        () => undefined,
        (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
      );
      expect(failed).toContain('DiskAlmostFull');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Prometheus and Alertmanager configuration', () => {
  it('prometheus.yml passes promtool check config, with the rules it loads in production', async () => {
    expect(await tool(promtool, ['check', 'config', 'prometheus.yml'])).toContain('SUCCESS');
    // In compose the rules are at /etc/prometheus; here the same config points at this directory.
    const dir = await mkdtemp(join(tmpdir(), 'ds-promcfg-'));
    try {
      const config = await readFile(join(DIR, 'prometheus.yml'), 'utf8');
      expect(config).toContain('/etc/prometheus/*.rules.yml');
      await writeFile(join(dir, 'prometheus.yml'), config.replace('/etc/prometheus/', DIR));
      const out = await tool(promtool, ['check', 'config', join(dir, 'prometheus.yml')]);
      for (const file of await ruleFiles()) expect(out).toContain(file);
      expect(out).not.toContain('FAILED');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('scrapes the control plane, node_exporter and postgres_exporter, and alerts through Alertmanager', async () => {
    const config = await yamlOf<{
      scrape_configs: { job_name: string }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    }>('prometheus.yml');
    expect(config.scrape_configs.map((s) => s.job_name)).toEqual(['control-plane', 'node', 'postgres']);
    expect(config.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(['alertmanager:9093']);
  });

  it('alertmanager.yml passes amtool check-config', async () => {
    expect(await tool(amtool, ['check-config', 'alertmanager.yml'])).toContain('SUCCESS');
  });
});
