import { deploymentHost, productionHost } from '@deploysphere/contracts';
import type { ControlPlaneConfig } from '../config.js';

/** The public URLs of sites, as visitors type them. */
export class SiteUrls {
  private readonly suffix: string;

  constructor(private readonly config: Pick<ControlPlaneConfig, 'rootDomain' | 'sites'>) {
    const { protocol, port } = config.sites;
    const defaultPort = protocol === 'https' ? 443 : 80;
    this.suffix = port && port !== defaultPort ? `:${port}` : '';
  }

  production(slug: string): string {
    return `${this.config.sites.protocol}://${productionHost(slug, this.config.rootDomain)}${this.suffix}`;
  }

  /** Any platform hostname (a branch alias) as a URL. */
  host(hostname: string): string {
    return `${this.config.sites.protocol}://${hostname}${this.suffix}`;
  }

  deployment(slug: string, deploymentId: string): string {
    return `${this.config.sites.protocol}://${deploymentHost(slug, deploymentId, this.config.rootDomain)}${this.suffix}`;
  }
}
