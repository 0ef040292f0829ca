import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo } from './helpers.js';
import {
  buildAndSave,
  phases,
  startZeroConfigEnv,
  zeroConfigSpec,
  type ZeroConfigEnv,
} from './zero-config-helpers.js';
import { DOCUSAURUS_CLASSIC } from './starters.js';

// Docusaurus is the biggest starter (about a thousand packages): one build, in a file of its own.
let env: ZeroConfigEnv;
beforeAll(async () => {
  env = await startZeroConfigEnv();
});
afterAll(async () => {
  await env?.stop();
});

describe('a Docusaurus site', () => {
  it('builds with nothing set: the docusaurus preset, npm, output build/', async () => {
    const repo = await createRepo(DOCUSAURUS_CLASSIC);
    const { result, logs, saved } = await buildAndSave(
      env,
      zeroConfigSpec(env, repo, { projectSlug: 'docs-site' }),
    );
    expect(result.stats.preset).toMatchObject({
      id: 'docusaurus',
      packageManager: 'npm',
      installCommand: 'npm install',
      buildCommand: 'npm run build',
      outputDir: 'build',
    });
    expect(result.stats.preset?.reason).toMatch(
      /^docusaurus: dependency @docusaurus\/core, docusaurus\.config\.js/,
    );
    expect(result.outputDir).toBe('build');
    expect(logs.text()).toContain('Node: ');
    expect(result.stats.files).toBeGreaterThan(3);
    // The framework's cache (.docusaurus) goes into the saved cache.
    expect(saved?.saved).toBe(true);
    console.log(`docusaurus: ${phases(result.stats)}`);
  }, 900_000);
});
