import { LogBatchSchema, type LogBatch } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { LogPublisher, type LogBatchTransport } from './log-publisher.js';
import { SECRET_MASK } from './secret-masker.js';

const ID = 'abcdefghijklmnopqrstuvwx';

/** A transport that stores like JetStream does: once per Nats-Msg-Id. */
class StoreTransport implements LogBatchTransport {
  readonly stored = new Map<string, LogBatch>();
  inFlight = 0;
  maxInFlight = 0;
  failuresLeft = 0;
  attempts = 0;

  async publish(_subject: string, payload: string, msgId: string): Promise<void> {
    this.attempts++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 1));
    this.inFlight--;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('503 no responders');
    }
    if (!this.stored.has(msgId)) this.stored.set(msgId, LogBatchSchema.parse(JSON.parse(payload)));
  }

  lines() {
    return [...this.stored.values()].flatMap((b) => b.lines).sort((a, b) => a.seq - b.seq);
  }
}

describe('LogPublisher', () => {
  it('numbers lines gaplessly from 1, batches them and ends with the end marker', async () => {
    const t = new StoreTransport();
    const p = new LogPublisher(t, { deploymentId: ID, maxBatchLines: 100, maxInFlight: 4 });
    for (let i = 1; i <= 1050; i++) p.write(i % 2 ? 'stdout' : 'stderr', `line ${i}`);
    const result = await p.close();
    expect(result).toEqual({ lastSeq: 1050, delivered: true, dropped: 0 });
    const lines = t.lines();
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 1050 }, (_, i) => i + 1));
    expect(lines[0]).toMatchObject({ stream: 'stdout', message: 'line 1' });
    expect(t.stored.get(`${ID}:1`)!.lines).toHaveLength(100);
    expect(t.stored.get(`${ID}:end`)!.end).toEqual({ lastSeq: 1050 });
    expect(t.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('retries a failed batch with the same id, so nothing is lost or doubled', async () => {
    const t = new StoreTransport();
    t.failuresLeft = 3;
    const p = new LogPublisher(t, {
      deploymentId: ID,
      maxBatchLines: 10,
      retry: { baseDelayMs: 1, maxDelayMs: 5, giveUpAfterMs: 60_000 },
    });
    for (let i = 1; i <= 95; i++) p.write('stdout', `l${i}`);
    expect((await p.close()).delivered).toBe(true);
    expect(t.attempts).toBeGreaterThan(t.stored.size);
    expect(t.lines().map((l) => l.seq)).toEqual(Array.from({ length: 95 }, (_, i) => i + 1));
  });

  it('seals a partial batch after maxDelayMs without waiting for close', async () => {
    const t = new StoreTransport();
    const p = new LogPublisher(t, { deploymentId: ID, maxDelayMs: 5 });
    p.write('system', 'hello');
    await expect.poll(() => t.stored.size).toBe(1);
    await p.close();
  });

  it('masks secrets, system lines included', async () => {
    const t = new StoreTransport();
    const p = new LogPublisher(t, { deploymentId: ID, secrets: ['hunter2hunter2'] });
    p.write('stdout', 'token=hunter2hunter2');
    p.write('system', 'Running: echo hunter2hunter2');
    await p.close();
    expect(t.lines().map((l) => l.message)).toEqual([`token=${SECRET_MASK}`, `Running: echo ${SECRET_MASK}`]);
  });

  it('drops lines past its memory bound, keeps seq gapless and says so', async () => {
    const t = new StoreTransport();
    const p = new LogPublisher(t, { deploymentId: ID, maxBufferedBytes: 64 * 50, maxBatchLines: 1000 });
    for (let i = 0; i < 200; i++) p.write('stdout', 'x'.repeat(10));
    const result = await p.close();
    expect(result.dropped).toBeGreaterThan(0);
    const lines = t.lines();
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: lines.length }, (_, i) => i + 1));
    expect(lines.at(-1)!.message).toMatch(/were dropped/);
  });

  it('gives up after its window and reports undelivered', async () => {
    const t = new StoreTransport();
    t.failuresLeft = Number.POSITIVE_INFINITY;
    const warnings: string[] = [];
    const p = new LogPublisher(t, {
      deploymentId: ID,
      retry: { baseDelayMs: 1, maxDelayMs: 2, giveUpAfterMs: 20 },
      onWarning: (m) => warnings.push(m),
    });
    p.write('stdout', 'x');
    expect((await p.close()).delivered).toBe(false);
    expect(warnings.join()).toMatch(/could not be published/);
  });
});
