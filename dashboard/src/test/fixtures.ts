import type { DeploymentView, MeView, ProjectView, Region } from '@deploysphere/contracts';

/** Wire shapes as the API answers them, for tests: override what a test is about. */

export const REGIONS: Region[] = [
  { id: 'us-east-1', name: 'N. Virginia', latitude: 38.9, longitude: -77.4 },
  { id: 'eu-west-1', name: 'Ireland', latitude: 53.35, longitude: -6.26 },
];

/** A 24-character deployment id starting with `n`, so even short ids (9 characters) differ. */
export const deploymentId = (n: number) => `${String(n).padStart(4, '0')}d`.padEnd(24, '0');

export function deploymentView(overrides: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: deploymentId(1),
    projectSlug: 'web',
    status: 'ready',
    phase: null,
    gitRef: null,
    regions: ['eu-west-1'],
    commitSha: 'abcdef0123456789abcdef0123456789abcdef01',
    target: 'production',
    branch: null,
    commitMessage: null,
    commitAuthor: null,
    branchUrl: null,
    url: 'http://web.localhost:8787',
    deploymentUrl: 'http://web--d00000000.localhost:8787',
    isProduction: false,
    error: null,
    stats: { files: 1, bytes: 10, uploadedBytes: 10, phaseDurationsMs: {} },
    preset: null,
    cache: null,
    cloneBytes: null,
    withoutCache: false,
    runner: null,
    createdAt: '2026-11-22T10:00:00.000Z',
    startedAt: '2026-11-22T10:00:01.000Z',
    finishedAt: '2026-11-22T10:00:09.000Z',
    ...overrides,
  };
}

export function projectView(overrides: Partial<ProjectView> = {}): ProjectView {
  return {
    id: 'p00000000000000000000001',
    slug: 'web',
    repoUrl: 'https://github.com/acme/web.git',
    gitRef: null,
    installCommand: 'npm install',
    buildCommand: 'npm run build',
    outputDir: null,
    rootDir: null,
    regions: ['eu-west-1'],
    buildCacheEnabled: true,
    retention: { retainReadyPerBranch: null, previewMaxAgeDays: null, buildCacheExpiryDays: null },
    envKeys: [],
    productionDeploymentId: null,
    url: 'http://web.localhost:8787',
    domains: [],
    latestDeployment: null,
    createdAt: '2026-11-22T10:00:00.000Z',
    updatedAt: '2026-11-22T10:00:00.000Z',
    ...overrides,
  };
}

/**
 * A team view's limits (no limit, no projects yet). A spread, not literal keys, so the fixtures
 * typecheck against a TeamView with or without these fields while the contract gains them.
 */
export const TEAM_LIMITS = { maxProjects: null, projects: 0 };

/** `GET /me` for a signed-in user: Ada, owner of "acme" and viewer of "blue". */
export function userMe(overrides: Partial<MeView> = {}): MeView {
  return {
    kind: 'user',
    user: { id: 'u'.padEnd(24, '1'), email: 'ada@example.com', name: 'Ada' },
    teams: [
      { ...TEAM_LIMITS, id: 't1', slug: 'acme', name: 'Acme', role: 'owner' },
      { ...TEAM_LIMITS, id: 't2', slug: 'blue', name: 'Blue', role: 'viewer' },
    ],
    scopes: ['read', 'deploy', 'admin'],
    ...overrides,
  };
}
