import { readdirSync, readFileSync } from 'node:fs';

/** What one build's processes used. */
export interface ResourceUsage {
  /** User + system CPU seconds of the whole process tree, exited children included. */
  cpuSeconds: number;
  /** The highest total resident memory of the tree at any sample. */
  peakMemoryBytes: number;
}

/** Linux reports CPU times in clock ticks (USER_HZ, 100 on every mainstream architecture). */
const CLOCK_TICKS_PER_SECOND = 100;
/** /proc/<pid>/stat's rss is in pages (4 KiB on x86-64 and arm64 with default kernels). */
const PAGE_BYTES = 4096;

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks: its own CPU and that of children it waited for. */
  ticks: number;
  rssPages: number;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the fields resume after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime..cstime 14-17, rss 24.
    return {
      ppid: Number(f[1]),
      ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
      rssPages: Number(f[21]),
    };
  } catch {
    return undefined; // exited while we looked
  }
}

/** The tree's usage right now: every live descendant of `root`, and `root` itself. */
export function processTreeUsage(root: number): ResourceUsage | undefined {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(entry);
    if (s) stats.set(Number(entry), s);
  }
  if (!stats.has(root)) return undefined;
  let ticks = 0;
  let rssPages = 0;
  const queue = [root];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const s = stats.get(pid);
    if (!s) continue;
    // A live process's cutime holds its exited, waited-for children; live children count themselves.
    ticks += s.ticks;
    rssPages += s.rssPages;
    for (const [child, c] of stats) if (c.ppid === pid) queue.push(child);
  }
  return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, peakMemoryBytes: rssPages * PAGE_BYTES };
}

/**
 * Process accounting for a local build: samples the tree under `root` (the build worker, its
 * git, its sandbox and everything the build's commands start) every `intervalMs`, and keeps the
 * highest CPU total and resident memory seen. CPU that the tree used after the last sample is not
 * counted (at most `intervalMs` of it), and a memory peak shorter than the interval can be
 * missed: a sampled measure, for trends and outliers, not for billing. On ECS the task's own
 * metadata endpoint has the exact figures (docs/observability.md).
 */
export function sampleProcessTree(
  root: number,
  intervalMs = 500,
): {
  current(): ResourceUsage;
  stop(): ResourceUsage;
} {
  const peak: ResourceUsage = { cpuSeconds: 0, peakMemoryBytes: 0 };
  let stopped = false;
  const sample = () => {
    const now = processTreeUsage(root);
    if (!now) return;
    peak.cpuSeconds = Math.max(peak.cpuSeconds, now.cpuSeconds);
    peak.peakMemoryBytes = Math.max(peak.peakMemoryBytes, now.peakMemoryBytes);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    // Samples now too, so a reader never sees less than the tree uses at that moment; not after
    // stop(), when the pid may already belong to another process.
    current() {
      if (!stopped) sample();
      return { ...peak };
    },
    stop() {
      if (stopped) return { ...peak };
      stopped = true;
      clearInterval(timer);
      sample();
      return { ...peak };
    },
  };
}
