import { dashboard } from './panels.js';

// Builds: queue, wait, running, outcomes, phases, output and cache. Gauges read from the database
// are the same on every control plane, hence max(); in-process counters add up, hence sum().

export const buildsDashboard = dashboard({
  uid: 'deploysphere-builds',
  title: 'DeploySphere: builds',
  description: 'Build queue, wait time, running builds, outcomes, phase durations, output and cache.',
  panels: [
    {
      title: 'Queue depth by region',
      unit: 'short',
      queries: [{ expr: 'max by (region) (deploysphere_build_queue_depth)', legend: '{{region}}' }],
    },
    {
      title: 'Oldest queued deployment waiting',
      unit: 's',
      queries: [{ expr: 'max by (region) (deploysphere_build_queue_oldest_seconds)', legend: '{{region}}' }],
    },
    {
      title: 'Queue wait p50 / p90 (builds started in the last hour)',
      unit: 's',
      queries: [
        {
          expr: 'max by (region, quantile) (deploysphere_build_wait_seconds)',
          legend: 'p{{quantile}} {{region}}',
        },
      ],
    },
    {
      title: 'Running builds by region',
      unit: 'short',
      queries: [{ expr: 'max by (region) (deploysphere_builds_running)', legend: '{{region}}' }],
    },
    {
      title: 'Outcomes, last hour',
      unit: 'short',
      queries: [
        {
          expr: 'sum by (status) (increase(deploysphere_deployments_finished_total[1h]))',
          legend: '{{status}}',
        },
      ],
    },
    {
      title: 'Phase duration p90',
      unit: 's',
      queries: [
        {
          expr: 'histogram_quantile(0.9, sum by (le, phase) (rate(deploysphere_build_phase_duration_seconds_bucket[1h])))',
          legend: '{{phase}}',
        },
      ],
    },
    {
      title: 'Build output vs. bytes uploaded, last hour',
      unit: 'bytes',
      queries: [
        { expr: 'sum by (kind) (increase(deploysphere_build_output_bytes_total[1h]))', legend: '{{kind}}' },
      ],
    },
    {
      title: 'Build cache: restores by result, last hour',
      unit: 'short',
      queries: [
        {
          expr: 'sum by (restored) (increase(deploysphere_build_cache_restores_total[1h]))',
          legend: '{{restored}}',
        },
      ],
    },
    {
      title: 'Build cache hit ratio, last hour',
      unit: 'percentunit',
      description: 'Exact or partial restores over successful builds; 0 while there were none.',
      queries: [
        {
          expr: 'sum(increase(deploysphere_build_cache_restores_total{restored=~"exact|partial"}[1h])) / clamp_min(sum(increase(deploysphere_build_cache_restores_total[1h])), 1)',
          legend: 'hit ratio',
        },
      ],
    },
    {
      title: 'CPU seconds per build p50 / p90, last hour',
      unit: 's',
      description: "User + system CPU of the build's whole process tree (process accounting, local builds).",
      queries: [
        {
          expr: 'histogram_quantile(0.5, sum by (le) (rate(deploysphere_build_cpu_seconds_bucket[1h])))',
          legend: 'p50',
        },
        {
          expr: 'histogram_quantile(0.9, sum by (le) (rate(deploysphere_build_cpu_seconds_bucket[1h])))',
          legend: 'p90',
        },
      ],
    },
    {
      title: 'Peak memory per build p50 / p90, last hour',
      unit: 'bytes',
      queries: [
        {
          expr: 'histogram_quantile(0.5, sum by (le) (rate(deploysphere_build_peak_memory_bytes_bucket[1h])))',
          legend: 'p50',
        },
        {
          expr: 'histogram_quantile(0.9, sum by (le) (rate(deploysphere_build_peak_memory_bytes_bucket[1h])))',
          legend: 'p90',
        },
      ],
    },
    {
      title: 'Watchdog interventions, last hour',
      unit: 'short',
      description: 'Silent builds failed, and queued deployments whose lost job was queued again.',
      queries: [
        {
          expr: 'sum by (action) (increase(deploysphere_watchdog_interventions_total[1h]))',
          legend: '{{action}}',
        },
      ],
    },
  ],
});
