import { ConfigError } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE_CACHE_TTL_MS, parseEdgeConfig } from './edge-config.js';

const REGIONS = [
  {
    id: 'us-east-1',
    name: 'Virginia',
    latitude: 38.9,
    longitude: -77.4,
    endpoint: 'http://127.0.0.1:9000',
    bucket: 'sites',
  },
];

describe('parseEdgeConfig', () => {
  it('applies defaults and accepts REGIONS as a JSON string or as JSON vars', () => {
    const fromString = parseEdgeConfig({ REGIONS: JSON.stringify(REGIONS) });
    expect(fromString).toMatchObject({
      ROOT_DOMAIN: 'localhost',
      DEV_MODE: false,
      ROUTE_CACHE_TTL_MS: DEFAULT_ROUTE_CACHE_TTL_MS,
    });
    expect(fromString.REGIONS[0]?.s3Region).toBe('us-east-1');
    expect(parseEdgeConfig({ REGIONS }).REGIONS).toHaveLength(1);
  });

  it('names every bad variable in one message', () => {
    let error: unknown;
    try {
      parseEdgeConfig({
        REGIONS: '[{"id":"x"',
        DEV_MODE: 'maybe',
        METRICS_URL: 'ftp://x',
        S3_ACCESS_KEY_ID: 'only-one',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('REGIONS: expected a JSON array of regions');
    expect(message).toContain('DEV_MODE');
    expect(message).toContain('METRICS_URL');
  });

  it('requires a token with a metrics URL, and both S3 keys or none', () => {
    expect(() => parseEdgeConfig({ REGIONS, METRICS_URL: 'http://cp:3000' })).toThrow(/METRICS_TOKEN/);
    expect(() => parseEdgeConfig({ REGIONS, S3_ACCESS_KEY_ID: 'a' })).toThrow(/S3_SECRET_ACCESS_KEY/);
    expect(
      parseEdgeConfig({ REGIONS, S3_ACCESS_KEY_ID: '', S3_SECRET_ACCESS_KEY: '' }).S3_ACCESS_KEY_ID,
    ).toBeUndefined();
  });
});
