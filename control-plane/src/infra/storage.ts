import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import type { StorageTarget } from '@deploysphere/contracts';

/** One S3 client per region, built once. */
export class RegionStorage {
  private readonly clients = new Map<string, S3Client>();

  constructor(readonly targets: readonly StorageTarget[]) {
    for (const t of targets) this.clients.set(t.region, createS3Client(t));
  }

  target(region: string): StorageTarget | undefined {
    return this.targets.find((t) => t.region === region);
  }

  client(region: string): S3Client | undefined {
    return this.clients.get(region);
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
  }
}
