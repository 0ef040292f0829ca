import {
  deploymentHost,
  productionHost,
  type RouteProtection,
  type RouteRecord,
} from '@deploysphere/contracts';
import type { RouteStore } from './route-store.js';

/**
 * A project's protection as route records carry it (docs/protected-previews.md): `previews` for
 * `deployment` records (deployment hosts and branch aliases), `production` for the production
 * host and custom domains. Undefined: that kind of host is public.
 */
export interface HostProtection {
  previews?: RouteProtection;
  production?: RouteProtection;
}

/** Reads a project's protection (by slug) when a record is written. */
export type ProtectionLookup = (slug: string) => Promise<HostProtection>;

interface ProjectRef {
  slug: string;
  domains: { hostname: string }[];
}

interface DeploymentRef {
  id: string;
  regions: string[];
}

/**
 * Writes the KV records that make a deployment reachable. A production switch writes one record
 * per production hostname; each write is atomic, so a visitor sees the old or the new deployment.
 */
export class RouteWriter {
  private readonly store: RouteStore;

  /**
   * With `protection`, every record written is stamped with the project's protection as it is at
   * that moment, so no write path (builds, promotes, aliases, domains) can publish a protected
   * host unprotected; ProtectionService rewrites the records when the setting changes.
   */
  constructor(
    store: RouteStore,
    private readonly rootDomain: string,
    private readonly protection?: ProtectionLookup,
  ) {
    this.store = protection ? protectingStore(store, protection) : store;
  }

  private record(kind: RouteRecord['kind'], slug: string, d: DeploymentRef): RouteRecord {
    return {
      v: 1,
      kind,
      deploymentId: d.id,
      projectSlug: slug,
      regions: d.regions,
      updatedAt: new Date().toISOString(),
    };
  }

  /**
   * Re-stamps the records of `hostnames` that belong to `slug` with its current protection (or
   * none): what a protection change calls. Hosts without a record are left alone.
   */
  async restampProject(slug: string, hostnames: string[]): Promise<number> {
    let written = 0;
    for (const hostname of hostnames) {
      const existing = await this.store.get(hostname);
      if (!existing || existing.projectSlug !== slug) continue;
      const { protection: _old, ...rest } = existing;
      await this.store.put(hostname, { ...rest, updatedAt: new Date().toISOString() });
      written += 1;
    }
    return written;
  }

  /** The deployment's own permanent host: written once, before it can become production. */
  async publishDeployment(project: ProjectRef, d: DeploymentRef): Promise<void> {
    await this.store.put(
      deploymentHost(project.slug, d.id, this.rootDomain),
      this.record('deployment', project.slug, d),
    );
  }

  /** Points the production host and every custom domain at the deployment. */
  async publishProduction(project: ProjectRef, d: DeploymentRef): Promise<void> {
    await this.store.put(
      productionHost(project.slug, this.rootDomain),
      this.record('production', project.slug, d),
    );
    for (const domain of project.domains) await this.publishCustomDomain(project.slug, domain.hostname, d);
  }

  /**
   * A branch's alias host, pointed at the branch's newest ready preview. It is a `deployment`
   * record, like the deployment's own host: it serves that one deployment, and edges that know
   * only the three record kinds read it unchanged.
   */
  async publishBranchAlias(hostname: string, slug: string, d: DeploymentRef): Promise<void> {
    await this.store.put(hostname, this.record('deployment', slug, d));
  }

  /** One custom domain, pointed at the project's production deployment. */
  async publishCustomDomain(slug: string, hostname: string, d: DeploymentRef): Promise<void> {
    await this.store.put(hostname, this.record('custom', slug, d));
  }

  async unpublishHost(hostname: string): Promise<void> {
    await this.store.delete(hostname);
  }

  /** Whether a hostname belongs to the platform's own domain, where only its records may live. */
  isPlatformHost(hostname: string): boolean {
    return hostname === this.rootDomain || hostname.endsWith(`.${this.rootDomain}`);
  }

  /** Removes every hostname of a project, so none of them serves any more. */
  async unpublishProject(
    project: ProjectRef,
    deploymentIds: string[],
    branchAliasHosts: string[] = [],
  ): Promise<void> {
    await this.store.delete(productionHost(project.slug, this.rootDomain));
    for (const domain of project.domains) await this.store.delete(domain.hostname);
    for (const hostname of branchAliasHosts) await this.store.delete(hostname);
    for (const id of deploymentIds)
      await this.store.delete(deploymentHost(project.slug, id, this.rootDomain));
  }
}

/** `deployment` records are previews; `production` and `custom` records serve production. */
export function protectionFor(kind: RouteRecord['kind'], p: HostProtection): RouteProtection | undefined {
  return kind === 'deployment' ? p.previews : p.production;
}

function protectingStore(store: RouteStore, lookup: ProtectionLookup): RouteStore {
  const stamped = async (record: RouteRecord): Promise<RouteRecord> => {
    const { protection: _ignored, ...rest } = record;
    const protection = protectionFor(record.kind, await lookup(record.projectSlug));
    return protection ? { ...rest, protection } : rest;
  };
  return {
    get: (hostname) => store.get(hostname),
    delete: (hostname) => store.delete(hostname),
    async put(hostname, record) {
      const first = await stamped(record);
      await store.put(hostname, first);
      // A protection change committed between the lookup and the write would be lost: its
      // re-stamp may have read KV before this write landed. Looking again after the write
      // closes that gap (the change is then either seen here or its re-stamp sees this record).
      const second = await stamped(record);
      if (second.protection?.epoch !== first.protection?.epoch) await store.put(hostname, second);
    },
  };
}
