import { dashboard } from './panels.js';

// The machine (node_exporter), PostgreSQL (postgres_exporter), NATS JetStream and ClickHouse (the
// control plane exports both: Debian has no NATS exporter, chDB no metrics endpoint), and the
// control plane process itself.

const DISK = 'fstype!~"tmpfs|ramfs|squashfs"';

export const resourcesDashboard = dashboard({
  uid: 'deploysphere-resources',
  title: 'DeploySphere: resources',
  description: 'Host, PostgreSQL, NATS JetStream, ClickHouse and the control plane.',
  panels: [
    {
      title: 'Host CPU busy by mode',
      unit: 'short',
      description: 'CPU seconds per second, all cores together; idle left out.',
      queries: [
        { expr: 'sum by (mode) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))', legend: '{{mode}}' },
      ],
    },
    {
      title: 'Host memory',
      unit: 'bytes',
      queries: [
        { expr: 'sum(node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes)', legend: 'used' },
        { expr: 'sum(node_memory_MemTotal_bytes)', legend: 'total' },
      ],
    },
    {
      title: 'Host disk used',
      unit: 'percentunit',
      queries: [
        {
          expr: `max by (mountpoint) (1 - node_filesystem_avail_bytes{${DISK}} / node_filesystem_size_bytes{${DISK}})`,
          legend: '{{mountpoint}}',
        },
      ],
    },
    {
      title: 'Host network',
      unit: 'Bps',
      queries: [
        { expr: 'sum(rate(node_network_receive_bytes_total[5m]))', legend: 'received' },
        { expr: 'sum(rate(node_network_transmit_bytes_total[5m]))', legend: 'sent' },
      ],
    },
    {
      title: 'PostgreSQL: up and connections',
      unit: 'short',
      queries: [
        { expr: 'max(pg_up)', legend: 'up' },
        { expr: 'sum(pg_stat_database_numbackends)', legend: 'connections' },
      ],
    },
    {
      title: 'PostgreSQL: transactions/s',
      unit: 'short',
      queries: [
        { expr: 'sum(rate(pg_stat_database_xact_commit[5m]))', legend: 'commits' },
        { expr: 'sum(rate(pg_stat_database_xact_rollback[5m]))', legend: 'rollbacks' },
      ],
    },
    {
      title: 'JetStream consumer lag (pending)',
      unit: 'short',
      queries: [
        {
          expr: 'max by (stream, consumer) (deploysphere_jetstream_consumer_pending)',
          legend: '{{stream}} {{consumer}}',
        },
      ],
    },
    {
      title: 'JetStream unacknowledged and redelivered',
      unit: 'short',
      queries: [
        {
          expr: 'max by (stream, consumer) (deploysphere_jetstream_consumer_ack_pending)',
          legend: 'ack pending {{consumer}}',
        },
        {
          expr: 'max by (stream, consumer) (deploysphere_jetstream_consumer_redelivered)',
          legend: 'redelivered {{consumer}}',
        },
      ],
    },
    {
      title: 'JetStream streams',
      unit: 'bytes',
      queries: [{ expr: 'max by (stream) (deploysphere_jetstream_stream_bytes)', legend: '{{stream}}' }],
    },
    {
      title: 'ClickHouse inserts/s by table',
      unit: 'short',
      queries: [
        { expr: 'sum by (table) (rate(deploysphere_clickhouse_inserts_total[5m]))', legend: '{{table}}' },
      ],
    },
    {
      title: 'ClickHouse rows/s and failed inserts',
      unit: 'short',
      queries: [
        {
          expr: 'sum by (table) (rate(deploysphere_clickhouse_insert_rows_total[5m]))',
          legend: 'rows {{table}}',
        },
        {
          expr: 'sum by (table) (increase(deploysphere_clickhouse_insert_failures_total[1h]))',
          legend: 'failed inserts, last hour {{table}}',
        },
      ],
    },
    {
      title: 'Control plane: CPU and event-loop lag p99',
      unit: 's',
      queries: [
        { expr: 'rate(process_cpu_seconds_total{job="control-plane"}[5m])', legend: 'cpu {{instance}}' },
        { expr: 'nodejs_eventloop_lag_p99_seconds{job="control-plane"}', legend: 'lag p99 {{instance}}' },
      ],
    },
    {
      title: 'Control plane: memory (RSS)',
      unit: 'bytes',
      queries: [{ expr: 'process_resident_memory_bytes{job="control-plane"}', legend: '{{instance}}' }],
    },
    {
      title: 'API latency p99 by route',
      unit: 's',
      queries: [
        {
          expr: 'histogram_quantile(0.99, sum by (le, route) (rate(control_plane_http_request_duration_seconds_bucket[5m])))',
          legend: '{{route}}',
        },
      ],
    },
  ],
});
