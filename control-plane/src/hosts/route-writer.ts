import { deploymentHost, productionHost, type RouteRecord } from '@deploysphere/contracts';
import type { RouteStore } from './route-store.js';

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
  constructor(
    private readonly store: RouteStore,
    private readonly rootDomain: string,
  ) {}

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
