import type { GcLogger, GcService } from './gc-service.js';

/**
 * Collects on a schedule. Every replica runs one of these; each tick only asks for a run, and
 * the lease (GcStore.acquire) lets one replica start it, and only once the last completed run is
 * `intervalMs` old. Ticks come ten times per interval, with jitter, so a due run starts soon
 * after it is due on whichever replica ticks first, and a run a dead replica left is resumed.
 */
export class GcScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly gc: GcService,
    private readonly opts: { intervalMs: number; log: GcLogger },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const tick = Math.max(500, this.opts.intervalMs / 10);
    this.timer = setTimeout(() => this.tick(), tick * (0.75 + Math.random() * 0.5));
    this.timer.unref();
  }

  private tick(): void {
    this.running = this.gc
      .runNow('schedule', false)
      .catch((err: unknown) => this.opts.log.error({ err }, 'scheduled garbage collection could not start'))
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.gc.stop();
    await this.running;
  }
}
