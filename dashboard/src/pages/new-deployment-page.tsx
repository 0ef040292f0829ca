import {
  CommandSchema,
  QuickDeployBodySchema,
  RegionListSchema,
  RelativeDirSchema,
  RepoUrlSchema,
  SlugSchema,
  type ProjectView,
} from '@deploysphere/contracts';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { RegionPicker } from '../components/region-picker.js';
import { TextField } from '../components/text-field.js';
import { fieldError } from '../lib/field-error.js';
import { browserPlace, nearestRegion } from '../lib/nearest-region.js';
import { useAsync } from '../lib/use-async.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { navigate } from '../router/router.js';

type Field = 'repoUrl' | 'installCommand' | 'buildCommand' | 'slug' | 'outputDir' | 'region';
type Availability =
  | { state: 'idle' | 'checking' | 'available' }
  | { state: 'existing'; project: ProjectView }
  | { state: 'taken' | 'unknown'; message: string };

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

export function NewDeploymentPage() {
  useDocumentTitle('New deployment');
  const [regions, reloadRegions] = useAsync((signal) => api.regions(signal), []);
  const nearestId = useMemo(
    () => (regions.state === 'ok' ? nearestRegion(regions.value, browserPlace())?.id : undefined),
    [regions],
  );

  const [repoUrl, setRepoUrl] = useState('');
  const [installCommand, setInstallCommand] = useState('npm install');
  const [buildCommand, setBuildCommand] = useState('npm run build');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [outputDir, setOutputDir] = useState('');
  const [picked, setPicked] = useState<string[] | undefined>(undefined);
  const [dirty, setDirty] = useState<Partial<Record<Field, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const [availability, setAvailability] = useState<Availability>({ state: 'idle' });
  const formRef = useRef<HTMLFormElement>(null);

  // Until the user picks, the nearest region is the primary.
  const selected = picked ?? (nearestId ? [nearestId] : []);
  const touch = (f: Field) => setDirty((d) => (d[f] ? d : { ...d, [f]: true }));
  const show = (f: Field) => submitted || dirty[f];

  const errors: Partial<Record<Field, string>> = {
    repoUrl: fieldError(RepoUrlSchema, repoUrl),
    installCommand: fieldError(CommandSchema, installCommand),
    buildCommand: fieldError(CommandSchema, buildCommand),
    slug: fieldError(SlugSchema, slug) ?? (availability.state === 'taken' ? availability.message : undefined),
    outputDir: outputDir.trim() ? fieldError(RelativeDirSchema, outputDir) : undefined,
    region: fieldError(RegionListSchema, selected),
  };
  if (serverError?.field) {
    const f = serverError.field.split('.')[0] as Field;
    if (f in errors && !errors[f]) errors[f] = serverError.message;
  }

  // Availability: GET /projects?slug=, where [] means free. Debounced, and only for valid slugs.
  const slugValid = !fieldError(SlugSchema, slug);
  useEffect(() => {
    if (!slugValid) {
      setAvailability({ state: 'idle' });
      return;
    }
    setAvailability({ state: 'checking' });
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api.findProject(slug, controller.signal).then(
        (project) => setAvailability(project ? { state: 'existing', project } : { state: 'available' }),
        (err: Error) => {
          if (controller.signal.aborted) return;
          setAvailability({ state: 'unknown', message: `Could not check the slug: ${err.message}` });
        },
      );
    }, 300);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [slug, slugValid]);

  const existing = availability.state === 'existing' ? availability.project : undefined;
  const repoMismatch = existing !== undefined && existing.repoUrl !== repoUrl.trim();
  if (repoMismatch && repoUrl.trim() && !errors.slug) {
    errors.slug = `${slug} belongs to another repository (${existing.repoUrl})`;
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setServerError(undefined);
    const body = QuickDeployBodySchema.safeParse({
      repoUrl,
      installCommand,
      buildCommand,
      slug,
      region: selected,
      ...(outputDir.trim() ? { outputDir } : {}),
    });
    if (!body.success || Object.values(errors).some(Boolean)) {
      // Take the keyboard to the first field that needs attention.
      requestAnimationFrame(() =>
        formRef.current
          ?.querySelector<HTMLElement>('[aria-invalid="true"], .region-picker.invalid input')
          ?.focus(),
      );
      return;
    }
    setBusy(true);
    try {
      const deployment = await api.quickDeploy(body.data);
      navigate(`/deployments/${deployment.id}`);
    } catch (err) {
      setServerError(err instanceof ApiError ? err : new ApiError(0, 'unknown', (err as Error).message));
      setBusy(false);
    }
  };

  const slugHint = (() => {
    if (!slugValid)
      return 'Your site will be at http://<slug>.localhost. Lowercase letters, digits and hyphens.';
    switch (availability.state) {
      case 'checking':
        return 'Checking availability…';
      case 'available':
        return <span className="ok">✓ {slug} is available</span>;
      case 'existing':
        return repoMismatch ? undefined : `${slug} exists: this adds a new deployment to it`;
      case 'unknown':
        return availability.message;
      default:
        return undefined;
    }
  })();

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>New deployment</h1>
      </div>
      <form ref={formRef} className="card form-grid" onSubmit={submit} noValidate aria-label="New deployment">
        <TextField
          id="repoUrl"
          label="Repo URL"
          value={repoUrl}
          placeholder="https://github.com/acme/site.git"
          inputMode="url"
          onChange={(e) => {
            setRepoUrl(e.target.value);
            touch('repoUrl');
            if (!slugEdited) setSlug(slugFromRepo(e.target.value.trim()));
          }}
          error={show('repoUrl') ? errors.repoUrl : undefined}
          required
        />
        <div className="field-row">
          <TextField
            id="installCommand"
            label="Install command"
            value={installCommand}
            onChange={(e) => {
              setInstallCommand(e.target.value);
              touch('installCommand');
            }}
            error={show('installCommand') ? errors.installCommand : undefined}
            className="mono"
            required
          />
          <TextField
            id="buildCommand"
            label="Build command"
            value={buildCommand}
            onChange={(e) => {
              setBuildCommand(e.target.value);
              touch('buildCommand');
            }}
            error={show('buildCommand') ? errors.buildCommand : undefined}
            className="mono"
            required
          />
        </div>
        <div className="field-row">
          <TextField
            id="slug"
            label="Project slug"
            value={slug}
            onChange={(e) => {
              setSlug(e.target.value);
              setSlugEdited(true);
              touch('slug');
            }}
            error={show('slug') || slug ? errors.slug : undefined}
            hint={<span aria-live="polite">{slugHint}</span>}
            required
          />
          <TextField
            id="outputDir"
            label="Output directory (optional)"
            value={outputDir}
            placeholder="detected: dist, build, out, public…"
            onChange={(e) => {
              setOutputDir(e.target.value);
              touch('outputDir');
            }}
            error={show('outputDir') ? errors.outputDir : undefined}
            hint="Leave empty to detect it from the build's output."
            className="mono"
          />
        </div>
        {regions.state === 'loading' && <LoadingState label="Loading regions…" />}
        {regions.state === 'error' && <ErrorState error={regions.error} onRetry={reloadRegions} />}
        {regions.state === 'ok' && (
          <RegionPicker
            regions={regions.value}
            value={selected}
            onChange={(ids) => {
              setPicked(ids);
              touch('region');
            }}
            nearestId={nearestId}
            error={show('region') ? errors.region : undefined}
          />
        )}
        {serverError && !serverError.field && (
          <p className="form-error" role="alert">
            {serverError.message}
          </p>
        )}
        {serverError?.field && (
          <p className="visually-hidden" role="alert">
            {serverError.message}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy || regions.state !== 'ok'}>
            {busy ? 'Deploying…' : 'Deploy'}
          </button>
        </div>
      </form>
    </>
  );
}
