import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processTreeUsage, sampleProcessTree } from './process-tree-usage.js';

const MB = 1024 * 1024;

// A grandchild (sh → node) that burns CPU on a fixed amount of work, then holds 200 MB of
// touched memory until its stdin closes: the sampler must see both through the shell.
const WORKER = `
const { createHash } = require('node:crypto');
let h = createHash('sha256');
const chunk = Buffer.alloc(1024 * 1024, 7);
for (let i = 0; i < 400; i++) h.update(chunk);
h.digest();
const held = Buffer.alloc(200 * 1024 * 1024, 1);
process.stdout.write('ready ' + held.length + '\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

describe('process tree accounting', () => {
  it('adds up CPU and resident memory of every process under the root', async () => {
    const child = spawn('sh', ['-c', `node -e "$WORKER"; echo done`], {
      env: { PATH: process.env.PATH, WORKER },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const sampler = sampleProcessTree(child.pid!, 100);
    try {
      await new Promise<void>((resolve) =>
        child.stdout.on('data', (c: Buffer) => c.includes('ready') && resolve()),
      );
      await expect
        .poll(() => sampler.current().peakMemoryBytes, { timeout: 10_000, interval: 50 })
        .toBeGreaterThan(200 * MB);
      const usage = sampler.current();
      // Hashing 400 MB takes CPU time on any machine; the tree is sh + node, not the test process.
      expect(usage.cpuSeconds).toBeGreaterThan(0);
      expect(usage.peakMemoryBytes).toBeLessThan(2048 * MB);
    } finally {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const final = sampler.stop();
    expect(final.peakMemoryBytes).toBeGreaterThan(200 * MB);
    expect(processTreeUsage(child.pid!)).toBeUndefined();
  });

  it('does not count processes outside the tree', () => {
    const self = processTreeUsage(process.pid)!;
    const init = processTreeUsage(1);
    expect(self.peakMemoryBytes).toBeGreaterThan(0);
    // The test process is not under a freshly spawned tree; a missing root reports nothing.
    expect(processTreeUsage(2 ** 22 + 7)).toBeUndefined();
    expect(init === undefined || init.peakMemoryBytes >= self.peakMemoryBytes).toBe(true);
  });
});
