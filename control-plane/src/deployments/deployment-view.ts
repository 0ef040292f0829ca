import {
  BuildCacheReportSchema,
  BuildPresetReportSchema,
  ExpiryReasonSchema,
  type DeploymentView,
} from '@deploysphere/contracts';
import type { Deployment, Project } from '@deploysphere/db';
import type { SiteUrls } from '../hosts/site-urls.js';

/** What a deployment's view reads of its project; the branch aliases name a preview's `branchUrl`. */
export const deploymentViewInclude = {
  project: {
    select: {
      slug: true,
      productionDeploymentId: true,
      branchAliases: { select: { branch: true, hostname: true } },
    },
  },
} as const;

export type DeploymentWithProject = Deployment & {
  project: Pick<Project, 'slug' | 'productionDeploymentId'> & {
    /** Absent: no branch URL is shown (a caller that does not show previews). */
    branchAliases?: { branch: string; hostname: string }[];
  };
};

/** What the API shows of a deployment. */
export function toDeploymentView(d: DeploymentWithProject, urls: SiteUrls): DeploymentView {
  const alias =
    d.target === 'preview' && d.branch !== null
      ? d.project.branchAliases?.find((a) => a.branch === d.branch)
      : undefined;
  return {
    id: d.id,
    projectSlug: d.project.slug,
    status: d.status,
    phase: d.status === 'building' ? d.phase : null,
    gitRef: d.gitRef,
    regions: d.regions,
    commitSha: d.commitSha,
    target: d.target,
    source: d.source,
    branch: d.branch,
    commitMessage: d.commitMessage,
    commitAuthor: d.commitAuthor,
    pullRequest: d.pullRequest,
    branchUrl: alias ? urls.host(alias.hostname) : null,
    url: urls.production(d.project.slug),
    deploymentUrl: urls.deployment(d.project.slug, d.id),
    isProduction: d.project.productionDeploymentId === d.id,
    error: d.error,
    skipReason: d.skipReason,
    stats: {
      files: d.files ?? 0,
      bytes: Number(d.bytes ?? 0n),
      uploadedBytes: Number(d.uploadedBytes ?? 0n),
      ...(d.totalBytes === null ? {} : { totalBytes: Number(d.totalBytes) }),
      phaseDurationsMs: (d.phaseDurationsMs ?? {}) as DeploymentView['stats']['phaseDurationsMs'],
    },
    // Stored as the worker reported them; a shape this version does not know shows as unknown
    // rather than failing the response.
    preset: BuildPresetReportSchema.safeParse(d.preset).data ?? null,
    cache: BuildCacheReportSchema.safeParse(d.cache).data ?? null,
    cloneBytes: d.cloneBytes === null ? null : Number(d.cloneBytes),
    withoutCache: d.withoutCache,
    runner:
      (d.runnerKind === 'local' || d.runnerKind === 'ecs') && d.runnerRegion
        ? {
            kind: d.runnerKind,
            region: d.runnerRegion,
            ...(d.runnerTaskArn ? { taskArn: d.runnerTaskArn } : {}),
            attempt: Math.max(1, d.runnerAttempt),
          }
        : null,
    createdAt: d.createdAt.toISOString(),
    startedAt: d.startedAt?.toISOString() ?? null,
    finishedAt: d.finishedAt?.toISOString() ?? null,
    // Only when expired: the field is new, and absent means "not expired".
    ...expiryOf(d),
  };
}

/** Expired by retention, with a reason this version knows; otherwise nothing. */
function expiryOf(d: Pick<Deployment, 'expiredAt' | 'expiredReason'>): Pick<DeploymentView, 'expiry'> {
  const reason = ExpiryReasonSchema.safeParse(d.expiredReason);
  return d.expiredAt && reason.success
    ? { expiry: { at: d.expiredAt.toISOString(), reason: reason.data } }
    : {};
}
