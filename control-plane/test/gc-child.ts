// A garbage collector in a process of its own, for gc-races.test.ts to kill mid-sweep. It runs
// one collection with the settings it is given (GC_CHILD, JSON) and exits.
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import type { StorageTarget } from '@deploysphere/contracts';
import { createDb } from '@deploysphere/db';
import { CloudflareKvRouteStore } from '../src/hosts/cloudflare-kv-route-store.js';
import { GcService, type GcSettings } from '../src/storage-gc/gc-service.js';

const opts = JSON.parse(process.env.GC_CHILD ?? '{}') as {
  databaseUrl: string;
  kvApiBase: string;
  buckets: { target: StorageTarget; bucket: string }[];
  settings: GcSettings;
};
const db = createDb(opts.databaseUrl, { maxConnections: 2 });
const gc = new GcService({
  db,
  routes: new CloudflareKvRouteStore({
    accountId: 'a',
    namespaceId: 'n',
    apiToken: 't',
    apiBase: opts.kvApiBase,
  }),
  rootDomain: 'localhost',
  buckets: opts.buckets.map((b) => ({
    region: b.target.region,
    client: createS3Client(b.target),
    bucket: b.bucket,
  })),
  settings: opts.settings,
  log: console,
});
const result = await gc.runNow('api', false);
console.log(JSON.stringify({ kind: result.kind }));
await db.$disconnect();
