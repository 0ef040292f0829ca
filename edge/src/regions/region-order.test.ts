import { DEFAULT_REGIONS, type EdgeRegion } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { greatCircleKm, parseGeoPoint, visitorLocation } from './geo.js';
import { orderRegions } from './region-order.js';

const known = new Map<string, EdgeRegion>(
  DEFAULT_REGIONS.map((r) => [
    r.id,
    { ...r, endpoint: 'http://127.0.0.1:1', bucket: 'bucket', s3Region: 'us-east-1' },
  ]),
);
const ALL = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];
const ids = (regions: EdgeRegion[]) => regions.map((r) => r.id);

describe('great-circle distance', () => {
  it('matches known distances within 1%', () => {
    const london = { latitude: 51.5074, longitude: -0.1278 };
    const newYork = { latitude: 40.7128, longitude: -74.006 };
    expect(greatCircleKm(london, newYork)).toBeGreaterThan(5570 * 0.99);
    expect(greatCircleKm(london, newYork)).toBeLessThan(5570 * 1.01);
    expect(greatCircleKm(london, london)).toBe(0);
  });
});

describe('orderRegions', () => {
  it.each([
    ['New York', { latitude: 40.7, longitude: -74 }, ['us-east-1', 'eu-west-1', 'ap-southeast-1']],
    ['Paris', { latitude: 48.85, longitude: 2.35 }, ['eu-west-1', 'us-east-1', 'ap-southeast-1']],
    ['Tokyo', { latitude: 35.7, longitude: 139.7 }, ['ap-southeast-1', 'eu-west-1', 'us-east-1']],
  ])('orders by distance for %s', (_name, visitor, expected) => {
    expect(ids(orderRegions(ALL, known, visitor))).toEqual(expected);
  });

  it('keeps the record order (primary first) when the location is unknown, skipping unknown ids', () => {
    expect(ids(orderRegions(['eu-west-1', 'mars-1', 'us-east-1'], known, undefined))).toEqual([
      'eu-west-1',
      'us-east-1',
    ]);
  });
});

describe('visitor location', () => {
  const headers = new Headers({ 'x-deploysphere-geo': '35.7,139.7' });
  it('uses the header only in dev mode', () => {
    expect(visitorLocation(headers, { latitude: '1', longitude: '2' }, true)).toEqual({
      latitude: 35.7,
      longitude: 139.7,
    });
    expect(visitorLocation(headers, { latitude: '1', longitude: '2' }, false)).toEqual({
      latitude: 1,
      longitude: 2,
    });
    expect(visitorLocation(new Headers(), undefined, true)).toBeUndefined();
  });

  it.each(['', 'x,y', '91,0', '0,181', '1;2', 'NaN,1', '1,2,3'])('rejects %j', (value) => {
    expect(parseGeoPoint(value)).toBeUndefined();
  });
});
