import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BROWSER_UPLOAD_CORS_HEADERS } from '../../../stack/src/embedded/s3rver.js';
import { DASHBOARD_UPLOAD_HEADERS } from '../src/region-stack.js';
import { InfraSettingsError } from '../src/settings.js';
import { buildInfra, committedSettingsJson, resourcesOf, settingsWith } from './helpers.js';

// The dashboard's "Deploy a folder" PUTs blobs from the browser straight into each region's
// bucket with presigned grants, so every site bucket answers CORS for the dashboard's origins:
// PUT and HEAD, with the headers the grants sign. Nothing else: no GET, no other origin.

type CorsRule = {
  AllowedOrigins: string[];
  AllowedMethods: string[];
  AllowedHeaders?: string[];
  ExposedHeaders?: string[];
  MaxAge?: number;
};

function corsRules(settings: ReturnType<typeof settingsWith>): CorsRule[][] {
  return buildInfra(settings).regions.map((stack) => {
    const buckets = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::S3::Bucket'));
    expect(buckets).toHaveLength(1);
    const cors = buckets[0]!.Properties!.CorsConfiguration as { CorsRules: CorsRule[] } | undefined;
    return cors?.CorsRules ?? [];
  });
}

const controlPlane = committedSettingsJson().controlPlane as { url: string };

describe("the site buckets' CORS for the dashboard's folder drop", () => {
  it('allows PUT and HEAD with the signed headers from the configured origins, in every region', () => {
    const origins = ['https://deploy.example.com', 'https://dash.example.org:8443'];
    const perRegion = corsRules(
      settingsWith({ dashboardOrigins: origins, regions: [{ id: 'eu-west-1' }, { id: 'us-east-1' }] }),
    );
    expect(perRegion).toHaveLength(2);
    for (const rules of perRegion) {
      expect(rules).toEqual([
        {
          Id: 'dashboard-folder-drop',
          AllowedOrigins: origins,
          AllowedMethods: ['PUT', 'HEAD'],
          AllowedHeaders: [...DASHBOARD_UPLOAD_HEADERS],
          ExposedHeaders: ['ETag'],
          MaxAge: 3600,
        },
      ]);
    }
    expect(DASHBOARD_UPLOAD_HEADERS).toEqual(
      expect.arrayContaining(['content-type', 'cache-control', 'if-none-match', 'x-amz-checksum-sha256']),
    );
  });

  it("defaults to the control plane's own origin, which serves the dashboard", () => {
    const [rules] = corsRules(settingsWith({}));
    expect(rules!.map((r) => r.AllowedOrigins)).toEqual([[new URL(controlPlane.url).origin]]);
  });

  it('has no CORS rule with an empty list', () => {
    expect(corsRules(settingsWith({ dashboardOrigins: [] })).flat()).toEqual([]);
  });

  it('refuses an origin with a path, a wildcard or another scheme, naming the setting', () => {
    for (const bad of [
      'https://deploy.example.com/',
      'https://deploy.example.com/app',
      '*',
      'ftp://x.example',
    ]) {
      expect(() => settingsWith({ dashboardOrigins: [bad] }), bad).toThrow(InfraSettingsError);
      expect(() => settingsWith({ dashboardOrigins: [bad] }), bad).toThrow(/dashboardOrigins\.0: expected/);
    }
  });

  it('allows exactly the headers the local buckets allow: what a grant signs, kept as one list in two places', () => {
    expect([...DASHBOARD_UPLOAD_HEADERS].sort()).toEqual([...BROWSER_UPLOAD_CORS_HEADERS].sort());
  });
});
