import { readFile } from 'node:fs/promises';
import { createEdgeMetrics } from '@deploysphere/control-plane/edge-metrics';
import { BuildMetrics } from '@deploysphere/control-plane/build-metrics';
import { httpMetrics } from '@deploysphere/control-plane/http-metrics';
import Fastify from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS, render } from './export-dashboards.js';
import { metricNames } from './platform-dashboard.js';

/** Every series the platform registers, from the same code that registers them in production. */
async function registeredNames(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  createEdgeMetrics(registry);
  new BuildMetrics(registry, {} as never); // the database is only read at scrape time
  const app = Fastify();
  await app.register(httpMetrics, { registry });
  await app.ready();
  await app.close();
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

describe('Grafana dashboards', () => {
  it.each(Object.entries(DASHBOARDS))('%s is committed as generated', async (file, dashboard) => {
    const committed = await readFile(new URL(`../grafana/dashboards/${file}`, import.meta.url), 'utf8');
    expect(committed).toBe(render(dashboard));
  });

  it.each(Object.entries(DASHBOARDS))(
    '%s reads only metrics the platform exports',
    async (_file, dashboard) => {
      const registered = await registeredNames();
      const exprs = dashboard.panels.flatMap((p) =>
        ('targets' in p ? (p.targets ?? []) : []).map((t) => String((t as { expr: string }).expr)),
      );
      expect(exprs.length).toBeGreaterThan(10);
      for (const expr of exprs) {
        for (const name of metricNames(expr)) expect(registered, `${name} in ${expr}`).toContain(name);
      }
    },
  );

  it('finds metric names in PromQL', () => {
    expect(metricNames('histogram_quantile(0.9, sum by (le) (rate(a_b_bucket{x="1"}[5m])))')).toEqual([
      'a_b',
    ]);
    expect(metricNames('process_resident_memory_bytes')).toEqual(['process_resident_memory_bytes']);
  });
});
