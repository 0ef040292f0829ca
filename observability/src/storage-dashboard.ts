import { dashboard } from './panels.js';

// Storage per region bucket and what it costs. The prices are S3 Standard's list prices in
// us-east-1 (USD 0.023 per GB-month stored, 0.09 per GB out to the internet): an estimate to
// watch the trend by, not a bill; change them here for another provider or region.

const STORED_PER_GB_MONTH = 0.023;
const EGRESS_PER_GB = 0.09;

export const storageDashboard = dashboard({
  uid: 'deploysphere-storage',
  title: 'DeploySphere: storage and cost',
  description:
    'Bytes and objects per region bucket, dedupe, bucket health, and an estimate of what it costs.',
  panels: [
    {
      title: 'Bytes stored by region and kind',
      unit: 'bytes',
      queries: [
        { expr: 'max by (region, kind) (deploysphere_storage_bytes)', legend: '{{region}} {{kind}}' },
      ],
    },
    {
      title: 'Objects stored by region and kind',
      unit: 'short',
      queries: [
        { expr: 'max by (region, kind) (deploysphere_storage_objects)', legend: '{{region}} {{kind}}' },
      ],
    },
    {
      title: 'Blob dedupe ratio by region',
      unit: 'short',
      description:
        'Output bytes of the ready deployments over the blob bytes stored: 3 means content addressing stores a third.',
      queries: [
        {
          expr: 'max by (region) (deploysphere_storage_logical_bytes) / clamp_min(max by (region) (deploysphere_storage_bytes{kind="blobs"}), 1)',
          legend: '{{region}}',
        },
      ],
    },
    {
      title: 'Bucket answering (1) or not (0)',
      unit: 'short',
      queries: [{ expr: 'max by (region) (deploysphere_region_storage_up)', legend: '{{region}}' }],
    },
    {
      title: 'Estimated storage cost, USD per month',
      unit: 'currencyUSD',
      queries: [
        {
          expr: `sum by (region) (max by (region, kind) (deploysphere_storage_bytes)) / 1e9 * ${STORED_PER_GB_MONTH}`,
          legend: '{{region}}',
        },
      ],
    },
    {
      title: 'Estimated edge egress cost, USD per day at the current rate',
      unit: 'currencyUSD',
      description: 'Bytes served by the edge that were read from a region bucket (cache misses).',
      queries: [
        {
          expr: `sum by (region) (rate(edge_response_bytes_total{cache="miss"}[1h])) * 86400 / 1e9 * ${EGRESS_PER_GB}`,
          legend: '{{region}}',
        },
      ],
    },
    {
      title: 'Bytes reclaimed by garbage collection, to date',
      unit: 'bytes',
      queries: [
        { expr: 'max by (region, kind) (deploysphere_gc_reclaimed_bytes)', legend: '{{region}} {{kind}}' },
      ],
    },
    {
      title: 'Bytes uploaded by builds, last hour',
      unit: 'bytes',
      queries: [
        {
          expr: 'sum(increase(deploysphere_build_output_bytes_total{kind="uploaded"}[1h]))',
          legend: 'uploaded',
        },
      ],
    },
  ],
});
