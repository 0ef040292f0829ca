import {
  AppError,
  type BuildSpec,
  type GitCloneCredential,
  type StorageTarget,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';

export interface BuildSpecDeps {
  db: Db;
  /** The control plane's storage target of a region; the bootstrap strips it to the region id. */
  storageTarget(region: string): StorageTarget | undefined;
  /** The project's env, decrypted. */
  envFor(projectId: string): Promise<Record<string, string>>;
  /** A private repository's clone credential, decrypted (git-credentials/); null: public. */
  gitCredentialFor?(projectId: string): Promise<GitCloneCredential | null>;
}

/** What a build of this deployment is given when it exchanges its bootstrap token (build-sessions/). */
export async function buildSpecFor(deps: BuildSpecDeps, id: string): Promise<BuildSpec> {
  const d = await deps.db.deployment.findUniqueOrThrow({ where: { id }, include: { project: true } });
  const storage = d.regions.map((region) => {
    const target = deps.storageTarget(region);
    if (!target) throw AppError.internal(`region ${region} has no storage configured`);
    return target;
  });
  const credential = await deps.gitCredentialFor?.(d.projectId);
  return {
    v: 1,
    deploymentId: d.id,
    projectSlug: d.project.slug,
    repoUrl: d.project.repoUrl,
    gitRef: d.gitRef,
    installCommand: d.project.installCommand,
    buildCommand: d.project.buildCommand,
    outputDir: d.project.outputDir,
    rootDir: d.project.rootDir,
    env: await deps.envFor(d.projectId),
    storage,
    previousDeployments: (
      await deps.db.deployment.findMany({
        where: { projectId: d.projectId, status: 'ready' },
        orderBy: { finishedAt: 'desc' },
        take: 3,
        select: { id: true },
      })
    ).map((p) => p.id),
    // A preview caches under its branch; a production deployment under the production branch,
    // which is also every branch's last fallback. A pushed deployment's gitRef is its commit SHA,
    // never a branch. A manual deployment of an explicit ref caches under that ref.
    branch: d.target === 'preview' ? d.branch : d.branch ? d.project.gitRef : (d.gitRef ?? d.project.gitRef),
    productionBranch: d.project.gitRef,
    cache: { enabled: d.project.buildCacheEnabled, restore: !d.withoutCache },
    // Only when set, as the credential: a spec without them is as it always was.
    ...(d.project.ignoreCommand ? { ignoreCommand: d.project.ignoreCommand } : {}),
    ...(d.branch ? { gitBranch: d.branch } : {}),
    // Only for a private repository: a public one's spec is as it always was.
    ...(credential ? { gitCredential: credential } : {}),
  };
}
