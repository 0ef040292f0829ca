import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REGIONS, type RouteRecord } from '@deploysphere/contracts';
import { S3RVER_CREDENTIALS, startS3rver, type EmbeddedS3 } from '@deploysphere/stack';
import { startLocalEdge, type LocalEdge, type LocalEdgeOptions } from '../../src/node/local-edge.js';
import { startChaosProxy, type ChaosProxy } from './chaos-proxy.js';
import { newDeploymentId, publishDeployment, type SiteFile } from './deployments.js';
import type { HeaderRule, RedirectRule } from '@deploysphere/contracts';

export const ROOT_DOMAIN = 'edge.test';
export const BUCKET = 'deploysphere-sites';

export interface TestRegion {
  id: string;
  s3: EmbeddedS3;
  proxy: ChaosProxy;
  /** The s3rver itself, for uploads that must not go through a failing proxy. */
  direct: { endpoint: string; bucket: string };
}

export interface TestStack {
  regions: TestRegion[];
  edge: LocalEdge;
  region(id: string): TestRegion;
  deploy(
    hostnames: string[],
    site: { files: SiteFile[]; redirects?: RedirectRule[]; headers?: HeaderRule[] },
    options?: { regions?: string[]; kind?: RouteRecord['kind'] },
  ): Promise<{ deploymentId: string; record: RouteRecord }>;
  /** Starts another edge on the same regions (different settings). */
  startEdge(overrides?: Partial<LocalEdgeOptions>): Promise<LocalEdge>;
  stop(): Promise<void>;
}

/**
 * Three regions (N. Virginia, Ireland, Singapore), each an s3rver behind a chaos proxy, and an
 * edge in workerd pointed at the proxies. Everything binds to loopback on free ports.
 */
export async function startTestStack(edgeOptions: Partial<LocalEdgeOptions> = {}): Promise<TestStack> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-test-'));
  const regions: TestRegion[] = [];
  const edges: LocalEdge[] = [];
  const stop = async () => {
    await Promise.allSettled(edges.map((e) => e.stop()));
    await Promise.allSettled(regions.map((r) => r.proxy.stop()));
    await Promise.allSettled(regions.map((r) => r.s3.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const region of DEFAULT_REGIONS) {
      const s3 = await startS3rver({ directory: join(dir, region.id), buckets: [BUCKET] });
      const proxy = await startChaosProxy(s3.endpoint);
      regions.push({ id: region.id, s3, proxy, direct: { endpoint: s3.endpoint, bucket: BUCKET } });
    }
    const startEdge = async (overrides: Partial<LocalEdgeOptions> = {}) => {
      const edge = await startLocalEdge({
        port: 0,
        rootDomain: ROOT_DOMAIN,
        devMode: true,
        s3Credentials: { ...S3RVER_CREDENTIALS },
        regions: DEFAULT_REGIONS.map((r, i) => ({
          ...r,
          endpoint: regions[i]?.proxy.endpoint ?? '',
          bucket: BUCKET,
        })),
        ...edgeOptions,
        ...overrides,
      });
      edges.push(edge);
      return edge;
    };
    const edge = await startEdge();
    const region = (id: string) => {
      const found = regions.find((r) => r.id === id);
      if (!found) throw new Error(`no test region ${id}`);
      return found;
    };
    return {
      regions,
      edge,
      region,
      startEdge,
      async deploy(hostnames, site, options = {}) {
        const ids = options.regions ?? regions.map((r) => r.id);
        const deploymentId = newDeploymentId();
        await publishDeployment(
          ids.map((id) => region(id).direct),
          { deploymentId, ...site },
        );
        const record: RouteRecord = {
          v: 1,
          kind: options.kind ?? 'production',
          deploymentId,
          projectSlug: 'test-site',
          regions: ids,
          updatedAt: new Date().toISOString(),
        };
        for (const edgeInstance of edges) {
          for (const host of hostnames) await edgeInstance.routes.put(host, record);
        }
        return { deploymentId, record };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
