import { dashboard } from './panels.js';

// Requests at the edge. No per-host or per-project series exist (bounded labels); per-project
// traffic is in the dashboard's Traffic tab, from ClickHouse.

/** `a / b` per region, 0 (not "no data") when `a` has no series yet, e.g. no 5xx so far. */
const ratio = (part: string, whole: string, by: string) =>
  `(sum by (${by}) (rate(${part}[5m])) or sum by (${by}) (rate(${whole}[5m])) * 0) / sum by (${by}) (rate(${whole}[5m]))`;

export const edgeDashboard = dashboard({
  uid: 'deploysphere-edge',
  title: 'DeploySphere: edge traffic',
  description: 'Requests, latency, bytes, cache and integrity at the edge, per region.',
  panels: [
    {
      title: 'Requests/s by status class',
      unit: 'reqps',
      queries: [
        { expr: 'sum by (status_class) (rate(edge_requests_total[5m]))', legend: '{{status_class}}' },
      ],
    },
    {
      title: 'Requests/s by region',
      unit: 'reqps',
      queries: [{ expr: 'sum by (region) (rate(edge_requests_total[5m]))', legend: '{{region}}' }],
    },
    {
      title: '5xx ratio by region',
      unit: 'percentunit',
      queries: [
        {
          expr: ratio('edge_requests_total{status_class="5xx"}', 'edge_requests_total', 'region'),
          legend: '{{region}}',
        },
      ],
    },
    {
      title: 'Edge cache hit ratio by region',
      unit: 'percentunit',
      description:
        'Of the requests that read a file: served from the edge cache rather than a region bucket.',
      queries: [
        {
          expr: ratio('edge_requests_total{cache="hit"}', 'edge_requests_total{cache=~"hit|miss"}', 'region'),
          legend: '{{region}}',
        },
      ],
    },
    {
      title: 'Latency p50 / p99 by region',
      unit: 's',
      queries: [
        {
          expr: 'histogram_quantile(0.5, sum by (le, region) (rate(edge_request_duration_seconds_bucket[5m])))',
          legend: 'p50 {{region}}',
        },
        {
          expr: 'histogram_quantile(0.99, sum by (le, region) (rate(edge_request_duration_seconds_bucket[5m])))',
          legend: 'p99 {{region}}',
        },
      ],
    },
    {
      title: 'Bytes served/s by region',
      unit: 'Bps',
      queries: [{ expr: 'sum by (region) (rate(edge_response_bytes_total[5m]))', legend: '{{region}}' }],
    },
    {
      title: 'Failovers and integrity failures by region, last hour',
      unit: 'short',
      description:
        'Failovers: the region failed a request (error, timeout, corrupt object) and the edge tried the next. Integrity failures: blobs whose bytes did not hash to their name.',
      queries: [
        { expr: 'sum by (region) (increase(edge_failovers_total[1h]))', legend: 'failovers {{region}}' },
        {
          expr: 'sum by (region) (increase(edge_integrity_failures_total[1h]))',
          legend: 'integrity failures {{region}}',
        },
      ],
    },
    {
      title: 'Edge metrics batches/s and age of the last one',
      unit: 's',
      queries: [
        { expr: 'sum(rate(edge_metrics_batches_total[5m]))', legend: 'batches/s' },
        {
          expr: 'time() - max(edge_metrics_last_batch_timestamp_seconds)',
          legend: 'seconds since the last batch',
        },
      ],
    },
  ],
});
