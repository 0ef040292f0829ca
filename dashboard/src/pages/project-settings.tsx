import { useSuspenseQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { projectQuery } from '../api/queries.js';
import { usePermissions } from '../lib/use-permissions.js';
import { BuildSettingsForm } from './build-settings-form.js';
import { DeleteProject } from './delete-project.js';
import { DomainsEditor } from './domains-editor.js';
import { EnvVarsEditor } from './env-vars-editor.js';
import { GitSettings } from './git-settings.js';
import { ProtectionSettings } from './protection-settings.js';

const route = getRouteApi('/projects/$slug/settings');

/** The Settings tab. Its layout shows it once the project has loaded, so the query never suspends. */
export function ProjectSettings() {
  const { slug } = route.useParams();
  const { data: project } = useSuspenseQuery(projectQuery(slug));
  const can = usePermissions();
  if (!can.deploy) {
    return (
      <p className="notice" role="status">
        Your role in this project&apos;s team is viewer: settings can be changed by members and owners.
      </p>
    );
  }
  return (
    <div className="settings">
      <BuildSettingsForm project={project} />
      <EnvVarsEditor project={project} />
      <DomainsEditor project={project} />
      <ProtectionSettings project={project} />
      <GitSettings project={project} />
      <DeleteProject slug={project.slug} />
    </div>
  );
}
