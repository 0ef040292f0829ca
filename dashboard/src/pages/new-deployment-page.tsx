import { SlugSchema, siteUrlFor, type DeploymentView } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useController, useForm, useWatch, type Path } from 'react-hook-form';
import { rememberDeployment } from '../api/cache.js';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { regionsQuery, sitesQuery, slugAvailabilityQuery } from '../api/queries.js';
import { RegionsField } from '../components/regions-field.js';
import { TextField } from '../components/text-field.js';
import {
  QuickDeployFormSchema,
  type QuickDeployFormOutput,
  type QuickDeployFormValues,
} from '../lib/form-schemas.js';
import { focusFirstInvalid } from '../lib/focus-first-invalid.js';
import { browserPlace, nearestRegion } from '../lib/nearest-region.js';
import { useDebouncedValue } from '../lib/use-debounced-value.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { usePermissions } from '../lib/use-permissions.js';
import { useSelectedTeam } from '../lib/selected-team.js';

/** The form's fields in the order the page shows them. */
const FIELDS: readonly Path<QuickDeployFormValues>[] = [
  'repoUrl',
  'installCommand',
  'buildCommand',
  'slug',
  'outputDir',
  'region',
];

/** `https://github.com/acme/My_Site.git` → `my-site`: a slug suggestion until the user types one. */
export function slugFromRepo(url: string): string {
  const name =
    url
      .replace(/\.git$/, '')
      .replace(/\/+$/, '')
      .split(/[/:]/)
      .pop() ?? '';
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

/** Viewers cannot deploy (the API would refuse): they get a note instead of a form. */
export function NewDeploymentPage() {
  useDocumentTitle('New deployment');
  const can = usePermissions();
  if (can.deploy) return <NewDeploymentForm />;
  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>New deployment</h1>
      </div>
      <p className="notice" role="status">
        Your role is viewer in each of your teams: members and owners deploy.
      </p>
    </>
  );
}

function NewDeploymentForm() {
  const client = useQueryClient();
  // A new project belongs to a team: the header's choice unless picked here. With one team the
  // body names none (the caller's default team is that one).
  const { teams, team: selectedTeam } = useSelectedTeam();
  const [pickedTeam, setPickedTeam] = useState<string | undefined>();
  const writable = selectedTeam?.role !== 'viewer' ? selectedTeam : teams.find((t) => t.role !== 'viewer');
  const team = teams.length > 1 ? (pickedTeam ?? writable?.slug) : undefined;
  const navigate = useNavigate();
  const regions = useQuery(regionsQuery());
  const sites = useQuery(sitesQuery());
  const nearestId = useMemo(
    () => (regions.data ? nearestRegion(regions.data, browserPlace())?.id : undefined),
    [regions.data],
  );

  // Live validation with the contract's schema: a field shows its error once it has changed,
  // and every field does after a submit, which also focuses the first one in error.
  const form = useForm<QuickDeployFormValues, unknown, QuickDeployFormOutput>({
    resolver: zodResolver(QuickDeployFormSchema),
    mode: 'onChange',
    shouldFocusError: false, // see focusFirstInvalid
    defaultValues: {
      repoUrl: '',
      // Empty: the build detects the framework and runs its commands.
      installCommand: '',
      buildCommand: '',
      slug: '',
      outputDir: '',
      region: nearestId ? [nearestId] : [],
    },
  });
  const { errors } = form.formState;
  const regionField = useController({ control: form.control, name: 'region' });

  // Until the user picks, the nearest region is the primary.
  useEffect(() => {
    if (nearestId && !form.getFieldState('region').isDirty)
      form.resetField('region', { defaultValue: [nearestId] });
  }, [nearestId, form]);

  // The slug follows the repository's name until the user types one.
  const slugEdited = useRef(false);
  const suggestSlug = (repoUrl: string) => {
    if (slugEdited.current) return;
    const suggestion = slugFromRepo(repoUrl.trim());
    form.setValue('slug', suggestion, { shouldValidate: suggestion !== '' });
    if (suggestion === '') form.clearErrors('slug');
  };

  // Availability: GET /projects?slug=, where [] means free. Debounced, and only for valid slugs.
  const [slug, repoUrl] = useWatch({ control: form.control, name: ['slug', 'repoUrl'] });
  const slugValid = SlugSchema.safeParse(slug).success;
  const settledSlug = useDebouncedValue(slug, 300);
  const availability = useQuery({
    ...slugAvailabilityQuery(settledSlug),
    enabled: slugValid && settledSlug === slug,
  });
  const checking = slugValid && (settledSlug !== slug || availability.isFetching);
  const existing = slugValid && !checking ? availability.data : undefined;
  // An existing project is fine (this adds a deployment to it) unless it builds another repository.
  const conflict =
    existing && repoUrl.trim() && existing.repoUrl !== repoUrl.trim()
      ? `${slug} belongs to another repository (${existing.repoUrl})`
      : undefined;

  const deploy = useMutation({
    mutationFn: api.quickDeploy,
    onSuccess: (deployment: DeploymentView) => {
      rememberDeployment(client, deployment);
      void navigate({ to: '/deployments/$id', params: { id: deployment.id } });
    },
    onError: (err) => {
      // A message about one field goes under that field.
      const field = err instanceof ApiError ? FIELDS.find((f) => f === err.field?.split('.')[0]) : undefined;
      if (field) form.setError(field, { type: 'server', message: err.message }, { shouldFocus: true });
    },
  });
  const serverError = deploy.error;
  const serverFieldError = serverError instanceof ApiError && serverError.field !== undefined;

  const submit = form.handleSubmit(
    (body) => {
      if (conflict) {
        form.setError('slug', { type: 'conflict', message: conflict }, { shouldFocus: true });
        return;
      }
      deploy.mutate(team ? { ...body, team } : body);
    },
    focusFirstInvalid(form.setFocus, FIELDS),
  );

  const pattern = sites.data?.urlPattern;
  let slugHint: ReactNode;
  if (!slugValid) {
    slugHint = `${pattern ? `Your site will be at ${pattern}. ` : ''}Lowercase letters, digits and hyphens.`;
  } else if (checking) {
    slugHint = 'Checking availability…';
  } else if (availability.isError) {
    slugHint = `Could not check the slug: ${availability.error.message}`;
  } else if (availability.data === null) {
    slugHint = (
      <span className="ok">
        ✓ {slug} is available{pattern ? `: ${siteUrlFor(pattern, slug)}` : ''}
      </span>
    );
  } else if (existing && !conflict) {
    slugHint = `${slug} exists: this adds a new deployment to it`;
  }

  const repoField = form.register('repoUrl', { onChange: (e) => suggestSlug(String(e.target.value)) });
  const slugField = form.register('slug', {
    onChange: () => {
      slugEdited.current = true;
    },
  });
  const busy = deploy.isPending || deploy.isSuccess;

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>New deployment</h1>
      </div>
      <form className="card form-grid" onSubmit={submit} noValidate aria-label="New deployment">
        <TextField
          id="repoUrl"
          label="Repo URL"
          placeholder="https://github.com/acme/site.git"
          inputMode="url"
          {...repoField}
          error={errors.repoUrl?.message}
          required
        />
        <div className="field-row">
          <TextField
            id="installCommand"
            label="Install command"
            {...form.register('installCommand')}
            error={errors.installCommand?.message}
            placeholder="detected: npm install, pnpm install, …"
            hint="Optional. Empty: detected from the lockfile."
            className="mono"
          />
          <TextField
            id="buildCommand"
            label="Build command"
            {...form.register('buildCommand')}
            error={errors.buildCommand?.message}
            placeholder="detected: npm run build, …"
            hint="Optional. Empty: the detected framework's build (none for plain HTML)."
            className="mono"
          />
        </div>
        <div className="field-row">
          <TextField
            id="slug"
            label="Project slug"
            {...slugField}
            error={errors.slug?.message ?? conflict}
            hint={<span aria-live="polite">{slugHint}</span>}
            required
          />
          <TextField
            id="outputDir"
            label="Output directory (optional)"
            placeholder="detected: dist, build, out, public…"
            {...form.register('outputDir')}
            error={errors.outputDir?.message}
            hint="Leave empty to detect it from the build's output."
            className="mono"
          />
        </div>
        {team && (
          <div className="field">
            <label htmlFor="deploy-team">Create in team</label>
            <select id="deploy-team" value={team} onChange={(e) => setPickedTeam(e.target.value)}>
              {teams.map((t) => (
                <option key={t.id} value={t.slug} disabled={t.role === 'viewer'}>
                  {t.name}
                  {t.role === 'viewer' ? ' (viewer: cannot deploy)' : ''}
                </option>
              ))}
            </select>
            <p className="field-hint">A new project belongs to this team; an existing one keeps its own.</p>
          </div>
        )}
        <RegionsField regions={regions} field={regionField} nearestId={nearestId} />
        {serverError && !serverFieldError && (
          <p className="form-error" role="alert">
            {serverError.message}
          </p>
        )}
        {serverError && serverFieldError && (
          <p className="visually-hidden" role="alert">
            {serverError.message}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy || !regions.data}>
            {busy ? 'Deploying…' : 'Deploy'}
          </button>
        </div>
      </form>
    </>
  );
}
