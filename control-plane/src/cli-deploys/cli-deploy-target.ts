import { AppError } from '@deploysphere/contracts';
import { DEFAULT_TEAM_ID } from '../authz/principal.js';
import type { GrantBucket } from '../build-sessions/storage-grants.js';
import type { ProjectService } from '../projects/project-service.js';
import type { CliDeployStore } from './cli-deploy-store.js';

export interface CliDeployTarget {
  project: { id: string; slug: string; regions: string[]; created: boolean };
  /** The deployment's regions, primary first: the request's, else the project's. */
  regions: string[];
}

/**
 * Where a CLI deploy (prebuilt or source) goes: its regions are checked first, then the project
 * is looked up by slug, or created without a repository in the caller's team.
 */
export async function cliDeployTarget(
  deps: {
    store: CliDeployStore;
    projects: ProjectService;
    bucketFor(region: string): GrantBucket | undefined;
  },
  body: { slug: string; regions?: string[] | undefined },
  teamId: string | undefined,
): Promise<CliDeployTarget> {
  if (body.regions) deps.projects.assertRegions(body.regions, 'regions');
  for (const [i, region] of (body.regions ?? []).entries()) {
    if (!deps.bucketFor(region))
      throw AppError.badRequest(`regions.${i}: "${region}" has no storage configured`, `regions.${i}`);
  }
  const existing = await deps.store.project(body.slug);
  const project =
    existing !== null
      ? { ...existing, created: false }
      : await deps.store.createProject(
          body.slug,
          body.regions ?? deps.projects.defaultRegions(),
          teamId ?? DEFAULT_TEAM_ID,
        );
  return { project, regions: body.regions ?? project.regions };
}
