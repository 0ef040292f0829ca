import { DEFAULT_REGIONS } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { nearestRegion, placeOfTimeZone } from './nearest-region.js';

const nearest = (tz: string, offsetHours: number) =>
  nearestRegion(DEFAULT_REGIONS, placeOfTimeZone(tz, offsetHours * 60))?.id;

describe('nearest region from the time zone', () => {
  it.each([
    ['America/New_York', -5, 'us-east-1'],
    ['America/Los_Angeles', -8, 'us-east-1'],
    ['America/Sao_Paulo', -3, 'us-east-1'],
    ['Europe/Dublin', 0, 'eu-west-1'],
    ['Europe/Berlin', 1, 'eu-west-1'],
    ['Africa/Lagos', 1, 'eu-west-1'],
    ['Asia/Singapore', 8, 'ap-southeast-1'],
    ['Asia/Kolkata', 5.5, 'ap-southeast-1'],
    ['Asia/Tokyo', 9, 'ap-southeast-1'],
    ['Australia/Sydney', 10, 'ap-southeast-1'],
  ])('%s → %s', (tz, offset, region) => {
    expect(nearest(tz, offset)).toBe(region);
  });

  it('makes no guess for UTC or unknown zones', () => {
    expect(placeOfTimeZone('UTC', 0)).toBeUndefined();
    expect(placeOfTimeZone('Etc/GMT+3', -180)).toBeUndefined();
    expect(nearestRegion(DEFAULT_REGIONS, undefined)).toBeUndefined();
  });
});
