// Bundles the CLI into one file: the workspace packages it shares with the platform (contracts,
// the build worker's hashing and presigned PUTs) are inlined, so the published package needs
// only its npm dependencies.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
await build({
  entryPoints: [new URL('./src/bin.ts', import.meta.url).pathname],
  outfile: new URL('./dist/deploysphere.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: Object.keys(pkg.dependencies ?? {}),
  define: { DEPLOYSPHERE_CLI_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
