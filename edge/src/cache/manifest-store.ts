import {
  ManifestSchema,
  manifestKey,
  type EdgeRegion,
  type Manifest,
  type ManifestFile,
} from '@deploysphere/contracts';
import type { WaitUntil } from '../config/bindings.js';
import { fetchWithFailover, type RegionFailure } from '../origin/failover.js';
import type { RegionHealth } from '../origin/region-health.js';
import type { S3Origin } from '../origin/s3-origin.js';
import { compileHeaderRules, type CompiledHeaderRule } from '../site/header-rules.js';
import { compileRedirects, type CompiledRedirect } from '../site/redirect-rules.js';
import { manifestCacheKey, type EdgeCache } from './edge-cache.js';
import { MemoryLru } from './memory-lru.js';

/** A manifest prepared for lookups. Deployments are immutable, so it never goes stale. */
export interface Site {
  deploymentId: string;
  files: ReadonlyMap<string, ManifestFile>;
  redirects: CompiledRedirect[];
  headerRules: CompiledHeaderRule[];
  /** No 404.html anywhere but a root index.html: missing navigations get index.html. */
  spa: boolean;
}

export type SiteLookup =
  { ok: true; site: Site; region: string; cache: 'hit' | 'miss' } | { ok: false; failures: RegionFailure[] };

const REGION_HEADER = 'x-deploysphere-region';

export function compileSite(manifest: Manifest): Site {
  // A Map, not the parsed object: a path like "constructor" or "__proto__" must not hit a prototype.
  const files = new Map(Object.entries(manifest.files));
  const has404 = [...files.keys()].some((p) => p === '404.html' || p.endsWith('/404.html'));
  return {
    deploymentId: manifest.deploymentId,
    files,
    redirects: compileRedirects(manifest.redirects),
    headerRules: compileHeaderRules(manifest.headers),
    spa: !has404 && files.has('index.html'),
  };
}

/**
 * Manifests by deployment id: isolate memory first, then the Cache API (shared by the isolates of
 * a location), then the regions' buckets with failover. A promote points a host at another id,
 * so nothing here ever needs a purge.
 */
export class ManifestStore {
  private readonly memory = new MemoryLru<{ site: Site; region: string }>(128);

  constructor(
    private readonly origin: S3Origin,
    private readonly health: RegionHealth,
    private readonly cache: EdgeCache | undefined,
  ) {}

  async get(deploymentId: string, regions: readonly EdgeRegion[], ctx: WaitUntil): Promise<SiteLookup> {
    const remembered = this.memory.get(deploymentId);
    if (remembered) return { ok: true, ...remembered, cache: 'hit' };

    const cached = await this.fromCache(deploymentId);
    if (cached) {
      this.memory.set(deploymentId, cached);
      return { ok: true, ...cached, cache: 'hit' };
    }

    const result = await fetchWithFailover(
      this.origin,
      this.health,
      regions,
      manifestKey(deploymentId),
      async (res) => {
        const text = await res.text();
        const manifest = parseManifest(text, deploymentId);
        return manifest ? { text, manifest } : undefined;
      },
    );
    if (!result.ok) return result;
    const entry = { site: compileSite(result.value.manifest), region: result.region.id };
    this.memory.set(deploymentId, entry);
    if (this.cache) {
      const response = new Response(result.value.text, {
        headers: {
          'content-type': 'application/json',
          'cache-control': 'public, max-age=31536000, immutable',
          [REGION_HEADER]: entry.region,
        },
      });
      ctx.waitUntil(this.cache.put(manifestCacheKey(deploymentId), response).catch(() => undefined));
    }
    return { ok: true, ...entry, cache: 'miss' };
  }

  private async fromCache(deploymentId: string): Promise<{ site: Site; region: string } | undefined> {
    if (!this.cache) return undefined;
    try {
      const response = await this.cache.match(manifestCacheKey(deploymentId));
      if (!response) return undefined;
      const manifest = parseManifest(await response.text(), deploymentId);
      if (!manifest) return undefined;
      return { site: compileSite(manifest), region: response.headers.get(REGION_HEADER) ?? 'cache' };
    } catch {
      // The cache is an optimisation; failing to read it just means asking the origin.
      return undefined;
    }
  }
}

/** A manifest that fails the schema or belongs to another deployment is treated as corrupt. */
function parseManifest(text: string, deploymentId: string): Manifest | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = ManifestSchema.safeParse(json);
  return result.success && result.data.deploymentId === deploymentId ? result.data : undefined;
}
