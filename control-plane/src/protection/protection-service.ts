import {
  AppError,
  importProtectionKey,
  PROTECTION_AUTH_PATH,
  PROTECTION_GRANT_TTL_S,
  productionHost,
  deploymentHost,
  safeReturnPath,
  signProtectionToken,
  type ProtectionKey,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import { verifyPassword } from '../accounts/password-hash.js';
import { access, type Principal } from '../authz/principal.js';
import type { RouteStore } from '../hosts/route-store.js';
import { protectionFor, type RouteWriter } from '../hosts/route-writer.js';
import type { SiteUrls } from '../hosts/site-urls.js';
import { RateLimiter } from '../webhooks/rate-limiter.js';
import { hostProtection } from './project-protection.js';

export interface ProtectionServiceDeps {
  db: Db;
  /** The raw store: the record of a host says which project it serves and whether it is protected. */
  store: RouteStore;
  routes: RouteWriter;
  urls: SiteUrls;
  rootDomain: string;
  signingKey: string | undefined;
  now?: () => number;
}

/** A protected host as the sign-in pages need it. */
export interface ProtectedSite {
  host: string;
  returnPath: string;
  mode: 'team' | 'password';
  project: { id: string; slug: string; teamId: string; passwordHash: string | null; epoch: number };
}

/**
 * The control plane's half of protected previews (docs/protected-previews.md): who may open a
 * protected host, the short-lived grant that says so, and re-stamping route records when a
 * project's protection changes. The edge checks the grant and its own cookie without calling here.
 */
export class ProtectionService {
  private key: ProtectionKey | undefined;
  private readonly now: () => number;
  /** Password guesses: per visitor address and host, and per host from everywhere. */
  private readonly guessesByClient = new RateLimiter({ burst: 10, perMinute: 5 });
  private readonly guessesByHost = new RateLimiter({ burst: 100, perMinute: 60 });

  constructor(private readonly deps: ProtectionServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.deps.signingKey !== undefined;
  }

  /**
   * The protected site behind `host`, with `returnTo` checked to stay on it. Answers 404 for a
   * host that is not protected (or not served at all): there is nothing to sign in to.
   */
  async site(host: string, returnTo: string): Promise<ProtectedSite> {
    const hostname = host.toLowerCase();
    const record = await this.deps.store.get(hostname);
    if (!record?.protection) throw AppError.notFound(`Protected site ${hostname}`, 'host');
    const project = await this.deps.db.project.findUnique({
      where: { slug: record.projectSlug },
      select: {
        id: true,
        slug: true,
        teamId: true,
        protectionMode: true,
        protectionPasswordHash: true,
        protectionEpoch: true,
        protectionProduction: true,
      },
    });
    // The record may lag the settings for a moment; the settings decide.
    const now = project ? protectionFor(record.kind, hostProtection(project)) : undefined;
    if (!project || !now) throw AppError.notFound(`Protected site ${hostname}`, 'host');
    return {
      host: hostname,
      returnPath: returnPathOn(hostname, returnTo),
      mode: project.protectionMode as 'team' | 'password',
      project: {
        id: project.id,
        slug: project.slug,
        teamId: project.teamId,
        passwordHash: project.protectionPasswordHash,
        epoch: project.protectionEpoch,
      },
    };
  }

  /** Whether a dashboard principal may open the site: anyone who may read the project. */
  mayOpen(site: ProtectedSite, principal: Principal | undefined): boolean {
    return (
      principal !== undefined && access(principal, 'read', site.project.teamId, site.project.id) === 'allowed'
    );
  }

  /** Checks a visitor's password, with a budget of guesses per address and per host. */
  async checkPassword(site: ProtectedSite, password: string, clientIp: string): Promise<boolean> {
    if (site.mode !== 'password' || !site.project.passwordHash) return false;
    const wait = Math.max(
      this.guessesByClient.take(`${site.host} ${clientIp}`),
      this.guessesByHost.take(site.host),
    );
    if (wait > 0) {
      throw new AppError(429, 'too_many_requests', `Too many attempts; try again in ${wait} seconds`, {
        field: 'password',
      });
    }
    return verifyPassword(password, site.project.passwordHash);
  }

  /** The protected site's origin, as visitors reach it (the grant exchange is there). */
  siteOrigin(site: ProtectedSite): string {
    return new URL(this.deps.urls.host(site.host)).origin;
  }

  /**
   * Where the visitor goes next: the site's exchange path with a grant for this host, this
   * project's epoch, and a minute to use it.
   */
  async grantUrl(site: ProtectedSite): Promise<string> {
    const token = await signProtectionToken(await this.signingKey(), {
      k: 'grant',
      h: site.host,
      r: site.returnPath,
      e: Math.floor(this.now() / 1000) + PROTECTION_GRANT_TTL_S,
      p: site.project.epoch,
    });
    const url = new URL(PROTECTION_AUTH_PATH, this.deps.urls.host(site.host));
    url.searchParams.set('token', token);
    return url.toString();
  }

  /**
   * Re-stamps every record of the project with its protection as saved now: its production host,
   * custom domains, branch aliases, and each ready deployment's own host. Run after a change is
   * committed; running it again (the same PATCH) finishes a run KV interrupted.
   */
  async restamp(projectId: string): Promise<number> {
    const project = await this.deps.db.project.findUniqueOrThrow({
      where: { id: projectId },
      select: {
        slug: true,
        domains: { select: { hostname: true } },
        branchAliases: { select: { hostname: true } },
        deployments: { where: { status: 'ready' }, select: { id: true } },
      },
    });
    const { rootDomain } = this.deps;
    const hosts = [
      productionHost(project.slug, rootDomain),
      ...project.domains.map((d) => d.hostname),
      ...project.branchAliases.map((a) => a.hostname),
      ...project.deployments.map((d) => deploymentHost(project.slug, d.id, rootDomain)),
    ];
    return this.deps.routes.restampProject(project.slug, hosts);
  }

  private async signingKey(): Promise<ProtectionKey> {
    if (!this.deps.signingKey) throw AppError.unavailable('Protected previews are not configured');
    this.key ??= await importProtectionKey(this.deps.signingKey);
    return this.key;
  }
}

/**
 * `returnTo` as a path on `host`: a plain path, or an absolute http(s) URL on exactly that host
 * (its path kept, its origin dropped). Anything else is a 400, never a redirect elsewhere.
 */
export function returnPathOn(host: string, returnTo: string): string {
  let candidate = returnTo;
  if (/^https?:\/\//i.test(returnTo)) {
    let url: URL;
    try {
      url = new URL(returnTo);
    } catch {
      throw AppError.badRequest('return: not a URL', 'return');
    }
    if (url.hostname.toLowerCase() !== host || url.username || url.password) {
      throw AppError.badRequest('return: must be on the protected host itself', 'return');
    }
    candidate = `${url.pathname}${url.search}`;
  }
  const path = safeReturnPath(candidate);
  if (path === undefined) throw AppError.badRequest('return: must be a path on the protected host', 'return');
  return path;
}
