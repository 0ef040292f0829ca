import type { Dashboard, Panel } from '@grafana/schema';

// Building blocks of the platform's Grafana dashboards, typed against @grafana/schema so a
// malformed panel fails `tsc`. `npm run observability:dashboards` writes them to grafana/dashboards/.

export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

export interface Query {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  unit: string;
  queries: Query[];
  description?: string;
}

/** A dashboard of time-series panels, three to a row, in the order given. */
export function dashboard(opts: {
  uid: string;
  title: string;
  description: string;
  panels: PanelSpec[];
}): Dashboard & { panels: Panel[] } {
  return {
    uid: opts.uid,
    title: opts.title,
    description: opts.description,
    tags: ['deploysphere'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }],
    },
    panels: opts.panels.map((p, i) => timeseries(p, i)),
  };
}

function timeseries(spec: PanelSpec, index: number): Panel {
  return {
    type: 'timeseries',
    id: index + 1,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource: DATASOURCE,
    gridPos: { h: 8, w: 8, x: (index % 3) * 8, y: Math.floor(index / 3) * 8 },
    fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
    options: {},
    targets: spec.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend,
    })) as Panel['targets'],
  };
}

/** Every query of a dashboard, with the title of the panel it belongs to. */
export function panelQueries(d: { panels: Panel[] }): { title: string; expr: string }[] {
  return d.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ title: p.title ?? '', expr: String((t as { expr: string }).expr) })),
  );
}

/** Metric names a PromQL expression reads (histogram series map back to their base name). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings (label values)
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // label lists
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  const names = new Set<string>();
  for (const [, name] of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    if (name && !keywords.has(name.toLowerCase())) names.add(name.replace(/_(bucket|sum|count)$/, ''));
  }
  return [...names];
}
