import type { LogEntry } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { appendLogLines, NO_LOG_LINES } from './log-lines.js';

const line = (seq: number): LogEntry => ({
  seq,
  ts: '2026-11-22T10:00:00.000Z',
  stream: 'stdout',
  message: `line ${seq}`,
});
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i));

describe('appendLogLines', () => {
  it('appends in place: a flush does not copy the lines already held', () => {
    const a = appendLogLines(undefined, lines(1, 3));
    const b = appendLogLines(a, lines(4, 5));
    expect(b.entries).toBe(a.entries);
    expect(b.count).toBe(5);
    expect(b.lastSeq).toBe(5);
    // The older snapshot still reads exactly what it had.
    expect(a.count).toBe(3);
    expect(a.entries.slice(0, a.count).map((l) => l.seq)).toEqual([1, 2, 3]);
  });

  it('drops lines it already holds, as a replay after a reconnect sends them again', () => {
    const a = appendLogLines(undefined, lines(1, 4));
    const b = appendLogLines(a, lines(3, 6));
    expect(b.entries.slice(0, b.count).map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(appendLogLines(b, lines(2, 6))).toBe(b);
  });

  it('never writes into the shared empty snapshot', () => {
    appendLogLines(NO_LOG_LINES, lines(1, 2));
    expect(NO_LOG_LINES.entries).toHaveLength(0);
  });

  it('starts a new array when an older snapshot is written to, so newer ones stay intact', () => {
    const a = appendLogLines(undefined, lines(1, 2));
    const b = appendLogLines(a, lines(3, 4));
    const fork = appendLogLines(a, [line(3)]);
    expect(fork.entries).not.toBe(b.entries);
    expect(b.entries.slice(0, b.count).map((l) => l.seq)).toEqual([1, 2, 3, 4]);
  });

  it('stays bounded: past the limit the oldest tenth goes at once, and is counted', () => {
    let log = appendLogLines(undefined, lines(1, 100), 100);
    expect(log.count).toBe(100);
    const before = log.entries;
    log = appendLogLines(log, [line(101)], 100);
    expect(log.count).toBe(90);
    expect(log.dropped).toBe(11);
    expect(log.entries[0]!.seq).toBe(12);
    expect(log.entries).not.toBe(before);
    // The next nine lines fit without another copy.
    const trimmed = log.entries;
    for (let seq = 102; seq <= 111; seq++) log = appendLogLines(log, [line(seq)], 100);
    expect(log.entries).toBe(trimmed);
    expect(log.count).toBe(100);
  });
});
