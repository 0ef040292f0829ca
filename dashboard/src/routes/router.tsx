import { AuditQuerySchema, DeploymentTargetSchema, TrafficQuerySchema } from '@deploysphere/contracts';
import { createRootRoute, createRoute, createRouter, redirect } from '@tanstack/react-router';
import { z } from 'zod';
import { AccountPage } from '../pages/account-page.js';
import { AuditLogPage } from '../pages/audit-log-page.js';
import { DeploymentHistory } from '../pages/deployment-history.js';
import { DeploymentPage } from '../pages/deployment-page.js';
import { DropDeployPage } from '../pages/drop-deploy-page.js';
import { InvitationPage } from '../pages/invitation-page.js';
import { NewDeploymentPage } from '../pages/new-deployment-page.js';
import { NotFoundPage } from '../pages/not-found-page.js';
import { ProjectPage } from '../pages/project-page.js';
import { ProjectSettings } from '../pages/project-settings.js';
import { ProjectTraffic } from '../pages/project-traffic.js';
import { ProjectStorage } from '../pages/project-storage.js';
import { ProjectsPage } from '../pages/projects-page.js';
import { ResetPasswordPage } from '../pages/reset-password-page.js';
import { TeamPage } from '../pages/team-page.js';
import { INVITATION_PATH, RESET_PASSWORD_PATH } from '../lib/session.js';
import { RootLayout } from './root-layout.js';

/**
 * Every screen, with typed params and search params. Pages read them with `getRouteApi(<path>)`
 * rather than importing these route objects, which keeps this file the only one that imports
 * the pages. The control plane answers every client path with index.html, so each of these
 * works on reload and when shared.
 */

/** `?window=24h` on the Traffic tab; a missing or unknown window is the API's default. */
export const TrafficSearchSchema = z.object({ window: TrafficQuerySchema.shape.window.catch('6h') });

/** `?target=preview&branch=…` on the Deployments tab: only production or previews, of one branch. */
export const HistorySearchSchema = z.object({
  target: DeploymentTargetSchema.optional().catch(undefined),
  branch: z.string().min(1).max(255).optional().catch(undefined),
});

/** `?action=member.invite&actor=<user id>` on a team's audit log; anything unknown means "any". */
export const AuditSearchSchema = z.object({
  action: AuditQuerySchema.shape.action.catch(undefined),
  actor: AuditQuerySchema.shape.actor.catch(undefined),
});

const rootRoute = createRootRoute({ component: RootLayout, notFoundComponent: NotFoundPage });

const projectsRoute = createRoute({ getParentRoute: () => rootRoute, path: '/', component: ProjectsPage });

const projectsAliasRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/projects',
  beforeLoad: () => {
    throw redirect({ to: '/', replace: true });
  },
});

const newDeploymentRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/new',
  component: NewDeploymentPage,
});

/** "Deploy a folder": the CLI's prebuilt deploy, from a dropped folder. */
const dropDeployRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/drop',
  component: DropDeployPage,
});

const deploymentRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/deployments/$id',
  component: DeploymentPage,
  // Another deployment is a new page: no cancel state or socket carried over.
  remountDeps: ({ params }) => params.id,
});

/** The project's header and tabs; the tabs render in its outlet. */
const projectRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/projects/$slug',
  component: ProjectPage,
  remountDeps: ({ params }) => params.slug,
});

const projectDeploymentsRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: '/',
  validateSearch: HistorySearchSchema,
  component: DeploymentHistory,
});

const projectTrafficRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'traffic',
  validateSearch: TrafficSearchSchema,
  component: ProjectTraffic,
});

const projectStorageRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'storage',
  component: ProjectStorage,
});

const projectSettingsRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'settings',
  component: ProjectSettings,
});

/** Public: the root layout shows it signed in or not (the link's fragment is the credential). */
const invitationRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: INVITATION_PATH,
  component: InvitationPage,
});

/** Public, like the invitation: the reset link's fragment is the credential. */
const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: RESET_PASSWORD_PATH,
  component: ResetPasswordPage,
});

/** The signed-in user's API tokens. */
const accountRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/account',
  component: AccountPage,
});

/** A team's members and invitations. */
const teamRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/teams/$team',
  component: TeamPage,
  remountDeps: ({ params }) => params.team,
});

/** A team's audit log, for its owners. */
const auditRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/teams/$team/audit',
  validateSearch: AuditSearchSchema,
  component: AuditLogPage,
  remountDeps: ({ params }) => params.team,
});

const routeTree = rootRoute.addChildren([
  invitationRoute,
  resetPasswordRoute,
  auditRoute,
  accountRoute,
  teamRoute,
  projectsRoute,
  projectsAliasRoute,
  newDeploymentRoute,
  dropDeployRoute,
  deploymentRoute,
  projectRoute.addChildren([
    projectDeploymentsRoute,
    projectTrafficRoute,
    projectStorageRoute,
    projectSettingsRoute,
  ]),
]);

export function createAppRouter() {
  return createRouter({
    routeTree,
    // An unknown path is the whole "Page not found" screen, not a message inside a project's tabs.
    notFoundMode: 'root',
  });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
