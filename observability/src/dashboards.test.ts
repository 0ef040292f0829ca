import { readdir, readFile } from 'node:fs/promises';
import { createEdgeMetrics } from '@deploysphere/control-plane/edge-metrics';
import { BuildMetrics } from '@deploysphere/control-plane/build-metrics';
import { httpMetrics } from '@deploysphere/control-plane/http-metrics';
import {
  instrumentClickHouseInserts,
  registerBuildQueueMetrics,
  registerJetStreamMetrics,
  registerStorageMetrics,
} from '@deploysphere/control-plane/platform-metrics';
import Fastify from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS, render } from './export-dashboards.js';
import { metricNames, panelQueries } from './panels.js';

/** Series the exporters (node_exporter, postgres_exporter) and Prometheus itself provide. */
const EXPORTED_ELSEWHERE = /^(node_|pg_|up$)/;

/** Every series the platform registers, from the same code that registers them in production. */
async function registeredNames(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  createEdgeMetrics(registry);
  new BuildMetrics(registry, {} as never); // the database is only read at scrape time
  registerBuildQueueMetrics(registry, {} as never, []);
  registerJetStreamMetrics(registry, {} as never);
  instrumentClickHouseInserts({ insert: () => Promise.resolve() } as never, registry);
  registerStorageMetrics(registry, { storage: {} as never, db: {} as never, regions: [] }).stop();
  const app = Fastify();
  await app.register(httpMetrics, { registry });
  await app.ready();
  await app.close();
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

describe('Grafana dashboards', () => {
  it('are the four the platform provisions, and nothing else is committed', async () => {
    expect(Object.keys(DASHBOARDS)).toEqual(['edge.json', 'builds.json', 'resources.json', 'storage.json']);
    const committed = await readdir(new URL('../grafana/dashboards/', import.meta.url));
    expect(committed.sort()).toEqual(Object.keys(DASHBOARDS).sort());
  });

  it.each(Object.entries(DASHBOARDS))('%s is committed as generated', async (file, dashboard) => {
    const committed = await readFile(new URL(`../grafana/dashboards/${file}`, import.meta.url), 'utf8');
    expect(committed).toBe(render(dashboard));
  });

  it.each(Object.entries(DASHBOARDS))(
    '%s reads only metrics the platform exports',
    async (_file, dashboard) => {
      const registered = await registeredNames();
      const queries = panelQueries(dashboard);
      expect(queries.length).toBeGreaterThanOrEqual(dashboard.panels.length);
      for (const { title, expr } of queries) {
        for (const name of metricNames(expr)) {
          if (EXPORTED_ELSEWHERE.test(name)) continue;
          expect(registered, `${name} in "${title}": ${expr}`).toContain(name);
        }
      }
    },
  );

  it.each(Object.entries(DASHBOARDS))('%s has unique panel ids and titles', (_file, dashboard) => {
    const ids = dashboard.panels.map((p) => p.id);
    const titles = dashboard.panels.map((p) => p.title);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it('finds metric names in PromQL', () => {
    expect(metricNames('histogram_quantile(0.9, sum by (le) (rate(a_b_bucket{x="1"}[5m])))')).toEqual([
      'a_b',
    ]);
    expect(metricNames('process_resident_memory_bytes')).toEqual(['process_resident_memory_bytes']);
    expect(metricNames('time() - max(c_d)')).toEqual(['c_d']);
  });
});
