import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';

export const WORKER_ENTRY = fileURLToPath(new URL('../index.ts', import.meta.url));

let bundled: Promise<string> | undefined;

/**
 * Bundles the worker the way wrangler does (one ES module, workerd conditions). Cached per process:
 * tests and the local stack start several edges from the same source.
 */
export function bundleWorker(): Promise<string> {
  bundled ??= build({
    entryPoints: [WORKER_ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    minify: false,
    sourcemap: false,
    logLevel: 'silent',
  })
    .then((result) => {
      const file = result.outputFiles[0];
      if (!file) throw new Error('esbuild produced no worker bundle');
      return file.text;
    })
    // The bundle is built once per process; esbuild's service child is not needed after it and
    // would otherwise outlive a stop of the platform by a moment.
    .finally(() => stop());
  return bundled;
}
