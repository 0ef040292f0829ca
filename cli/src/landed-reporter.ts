import { CLI_DEPLOY_PATHS, CliLandedResultSchema, MAX_LANDED_PER_REGION } from '@deploysphere/contracts';
import type { ApiClient } from './api-client.js';
import type { Output } from './output.js';

/** Blobs that land before a report is sent; fewer are left for finalize to check. */
const MIN_REPORT = 250;

/**
 * Reports blobs as they land (`POST /cli-deploys/:id/landed`), so the control plane checks them in
 * storage while the rest upload, and finalize checks only the last few: on S3 those checks are a
 * HEAD each, thousands for a large site. One report is in flight at a time; what lands meanwhile
 * goes in the next. A report that fails is dropped, not retried: finalize checks every blob not
 * verified, so a lost report costs time, never a wrong deploy.
 */
export class LandedReporter {
  private readonly unsent = new Map<string, string[]>();
  private count = 0;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly api: ApiClient,
    private readonly id: string,
    private readonly out: Output,
  ) {}

  /** The blob is stored in `region` (uploaded now, or found there: a 412). */
  landed(region: string, hash: string): void {
    let list = this.unsent.get(region);
    if (!list) this.unsent.set(region, (list = []));
    list.push(hash);
    this.count++;
    this.maybeSend();
  }

  /** No more reports; waits for the one in flight. What is left unreported, finalize checks. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight;
  }

  private maybeSend(): void {
    if (this.closed || this.inFlight || this.count < MIN_REPORT) return;
    const regions: { region: string; hashes: string[] }[] = [];
    for (const [region, list] of this.unsent) {
      const hashes = list.splice(0, MAX_LANDED_PER_REGION);
      this.count -= hashes.length;
      if (hashes.length > 0) regions.push({ region, hashes });
    }
    this.inFlight = this.api
      .post(CLI_DEPLOY_PATHS.landed(this.id), CliLandedResultSchema, { regions })
      .then(
        (res) => {
          for (const r of res.regions)
            this.out.debug(`${r.region}: ${r.verified} landed blobs verified, ${r.notStored} not stored yet`);
        },
        (err: unknown) => this.out.debug(`landed report dropped (finalize checks those): ${String(err)}`),
      )
      .finally(() => {
        this.inFlight = undefined;
        this.maybeSend();
      });
  }
}
