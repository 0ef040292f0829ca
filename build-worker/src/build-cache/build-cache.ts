import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BuildCacheReport, CacheSaveResponse, CacheCandidate } from '@deploysphere/contracts';
import type { BuildGrants } from '../grants/build-grants.js';
import type { LogSink } from '../log-sink.js';
import {
  archiveCompression,
  createArchive,
  extractArchive,
  safeExistingPath,
  shardMembers,
  type Compression,
} from './cache-archive.js';
import { modulePartNames } from './cache-keys.js';
import { CacheStore, type CacheMeta, type CachePart } from './cache-store.js';

/** Where a build keeps its files: `<buildDir>/home` (its $HOME) and `<buildDir>/repo` (the checkout). */
export interface CacheLayout {
  buildDir: string;
  /** Checkout-relative directories of framework caches (e.g. 'site/.docusaurus'). */
  repoCaches: string[];
  /** Checkout-relative node_modules directories, saved and restored only on an exact match. */
  modules: string[];
}

export interface CacheContext {
  project: string;
  /** Presigned requests from the control plane: the cache lives in the primary region's bucket. */
  grants: BuildGrants;
  key: string;
  /** A lockfile exists: node_modules may be restored on an exact match. */
  exactAllowed: boolean;
  branch: string;
  productionBranch: string;
  expiryDays: number;
  maxBytes: number;
  logs: LogSink;
}

export interface RestoreResult {
  report: BuildCacheReport;
  /** node_modules was restored: the install can check it instead of starting over. */
  exact: boolean;
  /**
   * The exact cache restored without its home: a save must keep that cache's home and
   * node_modules rather than overwrite them with an empty home.
   */
  reuse: CacheMeta | null;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const HOME = 'home';
const REPO = 'repo';

/**
 * Restores the best cache there is, before install: the exact key (lockfile, Node, platform),
 * else the branch's newest, else the production branch's. Whatever goes wrong (a missing,
 * expired, corrupt or partial archive, an unreachable bucket) is a log line and a cold install,
 * never a failed build.
 */
export async function restoreCache(
  ctx: CacheContext,
  layout: CacheLayout,
  /** npm with node_modules back needs no package cache; pnpm, Yarn and bun need their tool from home. */
  homeOnExact: boolean,
): Promise<RestoreResult> {
  const staging = join(layout.buildDir, 'cache-restore');
  const log = (line: string) => ctx.logs.write('system', `Build cache: ${line}`);
  let skipped: BuildCacheReport['skipped'] = 'miss';
  const started = Date.now();
  try {
    // The control plane reads the branch indexes and metas of this project's caches and grants a
    // GET for each archive: exact key, then this branch's newest, then the production branch's.
    const { candidates } = await ctx.grants.cacheRestore(ctx.key);
    for (const candidate of candidates) {
      const meta = candidate.meta;
      const lastUse = Date.parse(meta.usedAt ?? meta.savedAt);
      if (Date.now() - lastUse > ctx.expiryDays * 86_400_000) {
        log(
          `${candidate.source} cache ${short(candidate.key)} expired (unused for over ${ctx.expiryDays} days); ignored`,
        );
        continue;
      }
      const exact = candidate.key === ctx.key && ctx.exactAllowed && meta.modulesBytes !== null;
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true });
      let bytes = 0;
      const parts: CachePart[] = [];
      const timing = { downloadMs: 0, extractMs: 0 };
      try {
        if (!exact || homeOnExact) parts.push('home');
        if (meta.cachesBytes !== null) parts.push('caches');
        for (const part of parts) {
          const done = await fetchAndExtract(candidate, part, staging);
          bytes += done.bytes;
          timing.downloadMs += done.downloadMs;
          timing.extractMs += done.extractMs;
        }
        if (exact) {
          // The shards download and extract side by side: the slower one is what the build waits for.
          const shards = modulePartNames(meta.modulesShards);
          parts.push(...shards);
          const done = await Promise.all(shards.map((part) => fetchAndExtract(candidate, part, staging)));
          bytes += done.reduce((a, d) => a + d.bytes, 0);
          const downloadMs = Math.max(...done.map((d) => d.downloadMs));
          timing.downloadMs += downloadMs;
          timing.extractMs += Math.max(...done.map((d) => d.downloadMs + d.extractMs)) - downloadMs;
        }
      } catch (err) {
        log(
          `${candidate.source} cache ${short(candidate.key)} could not be used and is ignored: ${err instanceof Error ? err.message : String(err)}`,
        );
        skipped = 'corrupt';
        continue;
      }
      await moveInto(staging, layout, exact ? [...meta.modulePaths, ...meta.repoPaths] : meta.repoPaths);
      const names: Record<string, string> = {
        home: 'package manager cache',
        caches: 'framework caches',
        modules: 'node_modules',
      };
      const what = parts
        .filter((p) => p in names)
        .map((p) => names[p])
        .join(', ');
      log(
        `restored ${what} from the ${candidate.source} cache ${short(candidate.key)} (${mb(bytes)} compressed) in ${secs(Date.now() - started)} (download ${secs(timing.downloadMs)}, extract ${secs(timing.extractMs)})`,
      );
      await CacheStore.putJson(candidate.touch, { ...meta, usedAt: new Date().toISOString() }).catch(
        () => undefined,
      );
      return {
        exact,
        reuse: exact && !parts.includes('home') ? meta : null,
        report: {
          restored: exact ? 'exact' : 'partial',
          key: candidate.key,
          source: candidate.source,
          restoredBytes: bytes,
        },
      };
    }
    if (skipped === 'miss') log('no cache for this lockfile, branch or production branch; installing cold');
    return { exact: false, reuse: null, report: { restored: 'none', skipped } };
  } catch (err) {
    log(`could not be read and is skipped: ${err instanceof Error ? err.message : String(err)}`);
    return { exact: false, reuse: null, report: { restored: 'none', skipped: 'error' } };
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** One archive downloaded to a file, then extracted into the staging directory. */
async function fetchAndExtract(
  candidate: CacheCandidate,
  part: CachePart,
  staging: string,
): Promise<{ bytes: number; downloadMs: number; extractMs: number }> {
  const { meta } = candidate;
  const grant = candidate.archives[part];
  if (!grant) throw new Error(`no grant for its ${part} archive`);
  const file = join(staging, `..`, `cache-${part}.tar.${meta.compression}`);
  try {
    const t0 = Date.now();
    const bytes = await CacheStore.download(grant, file);
    const t1 = Date.now();
    await extractArchive(file, staging, meta.compression);
    return { bytes, downloadMs: t1 - t0, extractMs: Date.now() - t1 };
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Moves what was extracted into the build: the home's entries, then each recorded checkout path
 * that the checkout does not already have (a committed directory wins) and whose parents are real
 * directories of the checkout (never through a symlink the repository put there).
 */
async function moveInto(staging: string, layout: CacheLayout, repoPaths: string[]): Promise<void> {
  const home = join(layout.buildDir, HOME);
  await mkdir(home, { recursive: true });
  for (const entry of await readdir(join(staging, HOME)).catch(() => [] as string[])) {
    await rm(join(home, entry), { recursive: true, force: true });
    await rename(join(staging, HOME, entry), join(home, entry));
  }
  const checkout = join(layout.buildDir, REPO);
  for (const path of repoPaths) {
    const from = join(staging, REPO, path);
    const to = join(checkout, path);
    if (!(await exists(from)) || (await exists(to))) continue;
    const parent = dirname(path);
    if (parent !== '.' && !(await safeExistingPath(checkout, parent))) {
      await mkdir(join(checkout, parent), { recursive: true }).catch(() => undefined);
      if (!(await safeExistingPath(checkout, parent))) continue;
    }
    await rename(from, to);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

export interface SaveResult {
  saved: boolean;
  key: string;
  bytes: number;
}

/**
 * Archives the build's home (package manager caches and tools) and framework caches, plus
 * node_modules when a lockfile makes the key exact, and stores them under the key, then points
 * the branch at it. Runs after the deployment is reported uploaded; every failure is a log line.
 */
export async function saveCache(
  ctx: CacheContext,
  layout: CacheLayout,
  /** The same key's cache, restored without its home: only the framework caches are saved anew. */
  reuse: CacheMeta | null,
  /** From requestSaveGrant, asked while the deployment was still building. */
  grant: CacheSaveResponse | Error,
): Promise<SaveResult> {
  const log = (line: string) => ctx.logs.write('system', `Build cache: ${line}`);
  if (grant instanceof Error) {
    log(`not saved: no grant to write it (${grant.message})`);
    return { saved: false, key: ctx.key, bytes: 0 };
  }
  if (reuse && reuse.key === ctx.key && reuse.compression === archiveCompression())
    return saveFrameworkCaches(ctx, layout, reuse, grant);
  const started = Date.now();
  const compression: Compression = archiveCompression();
  const out = join(layout.buildDir, 'cache-save');
  const upload = async (part: CachePart, file: string) => {
    const put = grant.archives[part];
    if (!put) throw new Error(`no grant for the ${part} archive`);
    await CacheStore.upload(put, file);
  };
  try {
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const repoPaths: string[] = [];
    for (const p of layout.repoCaches)
      if (await safeExistingPath(join(layout.buildDir, REPO), p)) repoPaths.push(p);
    const modulePaths: string[] = [];
    if (ctx.exactAllowed) {
      for (const p of layout.modules)
        if (await safeExistingPath(join(layout.buildDir, REPO), p)) modulePaths.push(p);
    }
    const homeFile = join(out, `home.tar.${compression}`);
    const homeBytes = await createArchive(layout.buildDir, [HOME], homeFile, compression);
    const cachesFile = join(out, `caches.tar.${compression}`);
    const cachesBytes =
      repoPaths.length > 0
        ? await createArchive(
            layout.buildDir,
            repoPaths.map((p) => `${REPO}/${p}`),
            cachesFile,
            compression,
          )
        : null;
    let modulesBytes: number | null = null;
    const moduleShards =
      modulePaths.length > 0
        ? await shardMembers(
            layout.buildDir,
            modulePaths.map((p) => `${REPO}/${p}`),
            MODULE_SHARDS,
          )
        : [];
    const shardNames = modulePartNames(moduleShards.length);
    if (moduleShards.length > 0) {
      // Framework caches under node_modules are in the caches archive already.
      const inCaches = repoPaths
        .filter((p) => modulePaths.some((m) => p.startsWith(`${m}/`)))
        .map((p) => `${REPO}/${p}`);
      const sizes = await Promise.all(
        moduleShards.map((members, i) =>
          createArchive(
            layout.buildDir,
            members,
            join(out, `${shardNames[i]}.tar.${compression}`),
            compression,
            inCaches,
          ),
        ),
      );
      modulesBytes = sizes.reduce((a, b) => a + b, 0);
    }
    const total = homeBytes + (cachesBytes ?? 0) + (modulesBytes ?? 0);
    if (total > ctx.maxBytes) {
      log(`not saved: ${mb(total)} is over the cache limit of ${mb(ctx.maxBytes)} (BUILD_CACHE_MAX_BYTES)`);
      return { saved: false, key: ctx.key, bytes: total };
    }
    await upload('home', homeFile);
    if (cachesBytes !== null) await upload('caches', cachesFile);
    for (const part of shardNames) await upload(part, join(out, `${part}.tar.${compression}`));
    await CacheStore.commit(grant, {
      v: 1,
      key: ctx.key,
      compression,
      savedAt: new Date().toISOString(),
      branch: ctx.branch,
      homeBytes,
      cachesBytes,
      modulesBytes,
      modulesShards: Math.max(1, shardNames.length),
      repoPaths,
      modulePaths,
    });
    log(
      `saved ${short(ctx.key)} for branch ${ctx.branch}: package manager ${mb(homeBytes)}, framework ${mb(cachesBytes ?? 0)}${modulesBytes !== null ? `, node_modules ${mb(modulesBytes)}` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return { saved: true, key: ctx.key, bytes: total };
  } catch (err) {
    log(`not saved: ${err instanceof Error ? err.message : String(err)}`);
    return { saved: false, key: ctx.key, bytes: 0 };
  } finally {
    await rm(out, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * PUTs for a save, asked before the build reports `uploaded`: the build token works only while
 * the deployment is building, and the save runs after. Every archive a save may write is granted
 * (unused grants expire); a failure is returned, and the save logs it.
 */
export async function requestSaveGrant(ctx: CacheContext): Promise<CacheSaveResponse | Error> {
  try {
    return await ctx.grants.cacheSave({
      key: ctx.key,
      compression: archiveCompression(),
      parts: ['home', 'caches', ...(ctx.exactAllowed ? modulePartNames(MODULE_SHARDS) : [])],
    });
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

const short = (key: string) => key.slice(0, 12);

/** Two shards: the worker's two cores. Creating files costs CPU time in the kernel's inode allocator. */
const MODULE_SHARDS = 2;

/**
 * After an exact hit that skipped the home: node_modules and the home are unchanged by
 * definition (same key), so only the framework caches, which the build may have grown, are
 * archived again, and the meta and the branch index are pointed at the result.
 */
async function saveFrameworkCaches(
  ctx: CacheContext,
  layout: CacheLayout,
  reuse: CacheMeta,
  grant: CacheSaveResponse,
): Promise<SaveResult> {
  const log = (line: string) => ctx.logs.write('system', `Build cache: ${line}`);
  const started = Date.now();
  const out = join(layout.buildDir, 'cache-save');
  try {
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const repoPaths: string[] = [];
    for (const p of layout.repoCaches)
      if (await safeExistingPath(join(layout.buildDir, REPO), p)) repoPaths.push(p);
    const file = join(out, `caches.tar.${reuse.compression}`);
    const cachesBytes =
      repoPaths.length > 0
        ? await createArchive(
            layout.buildDir,
            repoPaths.map((p) => `${REPO}/${p}`),
            file,
            reuse.compression,
          )
        : null;
    if (cachesBytes !== null) {
      if (!grant.archives.caches) throw new Error('no grant for the caches archive');
      await CacheStore.upload(grant.archives.caches, file);
    }
    await CacheStore.commit(grant, {
      ...reuse,
      cachesBytes,
      repoPaths,
      branch: ctx.branch,
      savedAt: new Date().toISOString(),
      usedAt: undefined,
    });
    log(
      `saved ${short(ctx.key)} for branch ${ctx.branch}: framework ${mb(cachesBytes ?? 0)} (package manager cache and node_modules unchanged) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return {
      saved: true,
      key: ctx.key,
      bytes: reuse.homeBytes + (cachesBytes ?? 0) + (reuse.modulesBytes ?? 0),
    };
  } catch (err) {
    log(`not saved: ${err instanceof Error ? err.message : String(err)}`);
    return { saved: false, key: ctx.key, bytes: 0 };
  } finally {
    await rm(out, { recursive: true, force: true }).catch(() => undefined);
  }
}
