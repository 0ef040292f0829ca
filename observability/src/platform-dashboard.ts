import type { Dashboard, Panel, RowPanel } from '@grafana/schema';

// The platform's Grafana dashboard, typed against @grafana/schema so a malformed panel fails
// `tsc`. `npm run observability:dashboards` writes it to grafana/dashboards/ for provisioning.

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
let nextId = 1;

function row(title: string, y: number): RowPanel {
  return {
    type: 'row',
    id: nextId++,
    title,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0, y },
    panels: [],
  };
}

function timeseries(
  title: string,
  unit: string,
  targets: { expr: string; legend: string }[],
  gridPos: { x: number; y: number; w?: number },
): Panel {
  return {
    type: 'timeseries',
    id: nextId++,
    title,
    datasource: DATASOURCE,
    gridPos: { h: 8, w: gridPos.w ?? 8, x: gridPos.x, y: gridPos.y },
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: {},
    targets: targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: t.expr,
      legendFormat: t.legend,
    })) as Panel['targets'],
  };
}

export const platformDashboard = {
  uid: 'deploysphere-platform',
  title: 'DeploySphere: platform',
  description: 'Requests at the edge, builds, and the control plane’s resources.',
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
  panels: [
    row('Requests (edge)', 0),
    timeseries(
      'Requests/s by status class',
      'reqps',
      [{ expr: 'sum by (status_class) (rate(edge_requests_total[5m]))', legend: '{{status_class}}' }],
      { x: 0, y: 1 },
    ),
    timeseries(
      'Error ratio (5xx)',
      'percentunit',
      [
        {
          expr: 'sum(rate(edge_requests_total{status_class="5xx"}[5m])) / sum(rate(edge_requests_total[5m]))',
          legend: '5xx',
        },
      ],
      { x: 8, y: 1 },
    ),
    timeseries(
      'Cache hit ratio',
      'percentunit',
      [
        {
          expr: 'sum(rate(edge_requests_total{cache="hit"}[5m])) / sum(rate(edge_requests_total[5m]))',
          legend: 'hit ratio',
        },
      ],
      { x: 16, y: 1 },
    ),
    timeseries(
      'Latency p50 / p99 by region',
      's',
      [
        {
          expr: 'histogram_quantile(0.5, sum by (le, region) (rate(edge_request_duration_seconds_bucket[5m])))',
          legend: 'p50 {{region}}',
        },
        {
          expr: 'histogram_quantile(0.99, sum by (le, region) (rate(edge_request_duration_seconds_bucket[5m])))',
          legend: 'p99 {{region}}',
        },
      ],
      { x: 0, y: 9, w: 12 },
    ),
    timeseries(
      'Bytes served/s by region',
      'Bps',
      [{ expr: 'sum by (region) (rate(edge_response_bytes_total[5m]))', legend: '{{region}}' }],
      { x: 12, y: 9, w: 12 },
    ),
    row('Builds', 17),
    timeseries(
      'Deployments finished by status',
      'short',
      [
        {
          expr: 'sum by (status) (increase(deploysphere_deployments_finished_total[1h]))',
          legend: '{{status}}',
        },
      ],
      { x: 0, y: 18 },
    ),
    timeseries(
      'Queued and building',
      'short',
      [{ expr: 'max by (status) (deploysphere_deployments_active)', legend: '{{status}}' }],
      { x: 8, y: 18 },
    ),
    timeseries(
      'Phase duration p90',
      's',
      [
        {
          expr: 'histogram_quantile(0.9, sum by (le, phase) (rate(deploysphere_build_phase_duration_seconds_bucket[1h])))',
          legend: '{{phase}}',
        },
      ],
      { x: 16, y: 18 },
    ),
    timeseries(
      'Build output vs. bytes uploaded',
      'Bps',
      [{ expr: 'sum by (kind) (rate(deploysphere_build_output_bytes_total[1h]))', legend: '{{kind}}' }],
      { x: 0, y: 26, w: 24 },
    ),
    row('Control plane resources', 34),
    timeseries(
      'API latency p99 by route',
      's',
      [
        {
          expr: 'histogram_quantile(0.99, sum by (le, route) (rate(control_plane_http_request_duration_seconds_bucket[5m])))',
          legend: '{{route}}',
        },
      ],
      { x: 0, y: 35 },
    ),
    timeseries(
      'CPU',
      'percentunit',
      [{ expr: 'rate(process_cpu_seconds_total[5m])', legend: '{{instance}}' }],
      { x: 8, y: 35 },
    ),
    timeseries(
      'Memory (RSS) and event-loop lag p99',
      'bytes',
      [
        { expr: 'process_resident_memory_bytes', legend: 'rss {{instance}}' },
        { expr: 'nodejs_eventloop_lag_p99_seconds', legend: 'event-loop lag p99 {{instance}}' },
      ],
      { x: 16, y: 35 },
    ),
  ],
} satisfies Dashboard;

/** Metric names a PromQL expression reads (histogram series map back to their base name). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const [, name] of expr.matchAll(/\b([a-z_][a-z0-9_]*)(?=\s*[{[])/g)) {
    if (name) names.add(name.replace(/_(bucket|sum|count)$/, ''));
  }
  for (const [, name] of expr.matchAll(/^\s*([a-z_][a-z0-9_]*)\s*$/g)) if (name) names.add(name);
  return [...names];
}
