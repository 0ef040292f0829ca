import type { ProjectView } from '@deploysphere/contracts';
import type { Deployment, Project } from '@deploysphere/db';
import type { SiteUrls } from '../hosts/site-urls.js';
import { toProtectionSettings } from '../protection/project-protection.js';

export type ProjectWithRelations = Project & {
  envVars: { key: string }[];
  domains: { hostname: string }[];
  deployments: Pick<Deployment, 'id' | 'status' | 'createdAt'>[];
};

/** Prisma `include` that loads what a ProjectView shows. */
export const projectViewInclude = {
  envVars: { select: { key: true } },
  domains: { select: { hostname: true }, orderBy: { hostname: 'asc' } },
  deployments: {
    select: { id: true, status: true, createdAt: true },
    orderBy: { createdAt: 'desc' },
    take: 1,
  },
} as const;

/** What the API shows of a project. */
export function toProjectView(project: ProjectWithRelations, urls: SiteUrls): ProjectView {
  const latest = project.deployments[0];
  return {
    id: project.id,
    slug: project.slug,
    repoUrl: project.repoUrl,
    gitRef: project.gitRef,
    installCommand: project.installCommand,
    buildCommand: project.buildCommand,
    ignoreCommand: project.ignoreCommand,
    outputDir: project.outputDir,
    rootDir: project.rootDir,
    regions: project.regions,
    buildCacheEnabled: project.buildCacheEnabled,
    retention: {
      retainReadyPerBranch: project.retainReadyPerBranch,
      previewMaxAgeDays: project.previewMaxAgeDays,
      buildCacheExpiryDays: project.buildCacheExpiryDays,
    },
    protection: toProtectionSettings(project),
    envKeys: project.envVars.map((e) => e.key).sort(),
    productionDeploymentId: project.productionDeploymentId,
    url: urls.production(project.slug),
    domains: project.domains.map((d) => d.hostname),
    latestDeployment: latest
      ? { id: latest.id, status: latest.status, createdAt: latest.createdAt.toISOString() }
      : null,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}
