import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

/**
 * No Docker engine runs on the project's machines, so build-worker/Dockerfile cannot be built in
 * CI. What can be checked without one: every COPY source exists and is not docker-ignored, the
 * image holds every workspace package the worker imports at run time, and its entry point exists.
 */
const dockerfile = readFileSync(join(REPO_ROOT, 'build-worker/Dockerfile'), 'utf8');
// Instructions, with line continuations joined and comments dropped.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const copies = instructions
  .filter((l) => /^COPY\s/i.test(l))
  .map((l) =>
    l
      .split(/\s+/)
      .slice(1)
      .filter((a) => !a.startsWith('--')),
  );
const sources = copies.flatMap((args) => args.slice(0, -1));
const dockerignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}
const manifest = (dir: string) =>
  JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as Manifest;

/** Workspace directories by package name. */
function workspaces(): Map<string, string> {
  const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  return new Map(root.workspaces.map((dir) => [manifest(dir).name, dir]));
}

describe('build-worker/Dockerfile', () => {
  it('starts from a Node 20 or 22 slim image', () => {
    expect(instructions[0]).toMatch(/^FROM node:(20|22)[\w.-]*-slim$/);
  });

  it('copies only sources that exist and are not docker-ignored', () => {
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
      for (const pattern of dockerignore) {
        const p = pattern.replace(/^\*\*\//, '').replace(/\/$/, '');
        expect(
          source === p || source.startsWith(`${p}/`) || source.split('/').includes(p),
          `${source} vs ${pattern}`,
        ).toBe(false);
      }
    }
  });

  it('copies every workspace package the worker imports at run time, with its package.json', () => {
    const byName = workspaces();
    const needed = new Set<string>();
    const visit = (dir: string) => {
      if (needed.has(dir)) return;
      needed.add(dir);
      for (const dep of Object.keys(manifest(dir).dependencies ?? {})) {
        const ws = byName.get(dep);
        if (ws) visit(ws);
      }
    };
    visit('build-worker');
    expect([...needed].sort()).toEqual(['build-worker', 'contracts']);
    for (const dir of needed) {
      expect(sources, dir).toContain(`${dir}/package.json`);
      expect(sources, dir).toContain(`${dir}/src`);
    }
    expect(sources).toContain('package-lock.json');
  });

  it('installs git and not bubblewrap, which cannot run on Fargate', () => {
    const installs = instructions.filter((l) => /apt-get install/.test(l)).join(' ');
    expect(installs).toMatch(/\bgit\b/);
    expect(installs).toMatch(/\bopenssh-client\b/);
    expect(installs).not.toMatch(/bubblewrap/);
  });

  it('runs build-worker/src/main.ts through a tsx version that is in the lockfile', () => {
    const entry = instructions.find((l) => /^ENTRYPOINT\s/.test(l))!;
    const argv = JSON.parse(entry.replace(/^ENTRYPOINT\s+/, '')) as string[];
    expect(argv.at(-1)).toBe('build-worker/src/main.ts');
    expect(existsSync(join(REPO_ROOT, 'build-worker/src/main.ts'))).toBe(true);
    const tsx = /ARG TSX_VERSION=(\S+)/.exec(dockerfile)?.[1];
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    expect(tsx).toBe(lock.packages['node_modules/tsx']?.version);
  });

  it('sets no NODE_ENV, which would reach projects and drop their devDependencies', () => {
    expect(dockerfile).not.toMatch(/^ENV\s+.*NODE_ENV/m);
  });
});
