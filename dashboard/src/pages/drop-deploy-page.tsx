import { SlugSchema } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { useController, useForm, useWatch } from 'react-hook-form';
import { rememberDeployment } from '../api/cache.js';
import { ApiError } from '../api/client.js';
import { projectListQuery, regionsQuery } from '../api/queries.js';
import { RegionsField } from '../components/regions-field.js';
import { TextField } from '../components/text-field.js';
import { deployFolder, type DropProgress, type DropResult } from '../lib/drop-deploy.js';
import { listFolder, type DroppedFile, type FolderListing } from '../lib/folder-listing.js';
import { filesFromDirectoryInput, filesFromDrop, folderName } from '../lib/folder-source.js';
import { formatBytes } from '../lib/format.js';
import { browserPlace, nearestRegion } from '../lib/nearest-region.js';
import {
  DropDeployFormSchema,
  type DropDeployFormOutput,
  type DropDeployFormValues,
} from '../lib/form-schemas.js';
import { slugFromRepo } from './new-deployment-page.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { usePermissions } from '../lib/use-permissions.js';

interface Dropped {
  name: string | undefined;
  listing: FolderListing<File>;
}

/** "Deploy a folder", in the style of Netlify Drop: the CLI's prebuilt deploy from the browser. */
export function DropDeployPage() {
  useDocumentTitle('Deploy a folder');
  const can = usePermissions();
  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Deploy a folder</h1>
      </div>
      {can.deploy ? (
        <DropDeployForm />
      ) : (
        <p className="notice" role="status">
          Your role is viewer in each of your teams: members and owners deploy.
        </p>
      )}
    </>
  );
}

/** An API error with the field it is about, as `files.a/../b: …`; others as they are. */
function describeError(err: Error): string {
  if (err instanceof ApiError && err.field && !err.message.startsWith(err.field)) {
    return `${err.field}: ${err.message}`;
  }
  return err.message;
}

function DropDeployForm() {
  const client = useQueryClient();
  const projects = useQuery(projectListQuery());
  const regions = useQuery(regionsQuery());
  const nearestId = useMemo(
    () => (regions.data ? nearestRegion(regions.data, browserPlace())?.id : undefined),
    [regions.data],
  );
  const [dropped, setDropped] = useState<Dropped | undefined>();
  const [reading, setReading] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<DropProgress | undefined>();
  const slugEdited = useRef(false);

  const form = useForm<DropDeployFormValues, unknown, DropDeployFormOutput>({
    resolver: zodResolver(DropDeployFormSchema),
    mode: 'onChange',
    defaultValues: { slug: '', target: 'preview', regions: nearestId ? [nearestId] : [] },
  });
  const regionField = useController({ control: form.control, name: 'regions' });
  // Until the user picks, the nearest region is the primary (as on the Git deploy form).
  useEffect(() => {
    if (nearestId && !form.getFieldState('regions').isDirty)
      form.resetField('regions', { defaultValue: [nearestId] });
  }, [nearestId, form]);
  const { errors } = form.formState;
  const slug = useWatch({ control: form.control, name: 'slug' });
  const existing = projects.data?.find((p) => p.slug === slug);

  const deploy = useMutation({
    mutationFn: ({ regions: picked, ...body }: DropDeployFormOutput & { listing: FolderListing<File> }) =>
      deployFolder({
        ...body,
        // An existing project deploys to its own regions.
        regions: existing || picked.length === 0 ? undefined : picked,
        onProgress: setProgress,
      }),
    onSuccess: (result: DropResult) => {
      rememberDeployment(client, result.deployment);
      void client.invalidateQueries({ queryKey: projectListQuery().queryKey });
    },
    onError: (err) => {
      if (err instanceof ApiError && err.field === 'slug') {
        form.setError('slug', { type: 'server', message: err.message }, { shouldFocus: true });
      }
    },
  });

  const take = (files: DroppedFile<File>[], name: string | undefined) => {
    deploy.reset();
    setProgress(undefined);
    setDropped({ name, listing: listFolder(files) });
    // The folder's name is the slug's suggestion until the user types one.
    const suggestion = name ? slugFromRepo(name) : '';
    if (!slugEdited.current && suggestion && SlugSchema.safeParse(suggestion).success) {
      form.setValue('slug', suggestion, { shouldValidate: true });
    }
  };

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    if (deploy.isPending) return;
    // The items are only readable during the event: filesFromDrop takes them before awaiting.
    const items = e.dataTransfer.items;
    const single = items.length === 1 ? items[0]?.webkitGetAsEntry() : undefined;
    setReading(true);
    filesFromDrop(items)
      .then((files) => take(files, single?.isDirectory ? single.name : undefined))
      .finally(() => setReading(false));
  };

  const listing = dropped?.listing;
  const busy = deploy.isPending;
  // Leaving mid-upload would strand the deployment until the watchdog fails it: the browser asks.
  useEffect(() => {
    if (!busy) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [busy]);
  const blocked = !listing || listing.files.length === 0 || listing.tooLarge.length > 0;
  const submit = form.handleSubmit((values) => {
    if (listing && !blocked) deploy.mutate({ ...values, listing });
  });

  const slugField = form.register('slug', {
    onChange: () => {
      slugEdited.current = true;
    },
  });
  const slugValid = SlugSchema.safeParse(slug).success;
  const result = deploy.data;

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Deploy a folder">
      <div
        className={`drop-zone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        aria-describedby="drop-zone-hint"
      >
        <p className="drop-zone-title">Drop a folder here</p>
        <p id="drop-zone-hint" className="muted">
          Its files are the site, as they are: no build runs. <code>_redirects</code> and{' '}
          <code>_headers</code> at the top are read as rules.
        </p>
        <label className="button">
          Choose a folder…
          <input
            type="file"
            className="visually-hidden"
            multiple
            disabled={busy}
            ref={(input) => {
              // React has no prop for it; Chromium, Firefox and Safari all take the attribute.
              if (input) input.webkitdirectory = true;
            }}
            onChange={(e) => {
              const files = e.currentTarget.files;
              if (files && files.length > 0) take(filesFromDirectoryInput(files), folderName(files));
              e.currentTarget.value = '';
            }}
          />
        </label>
      </div>

      {reading && <p role="status">Reading the folder…</p>}
      {listing && (
        <div className="drop-summary" role="status" aria-label="Folder">
          <p>
            <strong>{dropped.name ?? 'Dropped files'}</strong>: {listing.files.length}{' '}
            {listing.files.length === 1 ? 'file' : 'files'}, {formatBytes(listing.bytes)}
            {listing.rules._redirects ? ', _redirects' : ''}
            {listing.rules._headers ? ', _headers' : ''}
          </p>
          {listing.files.length === 0 && <p className="form-error">The folder has no files to deploy.</p>}
          {listing.tooLarge.map((f) => (
            <p key={f.path} className="form-error">
              {f.path} is {formatBytes(f.size)}: a site's files may be at most 25 MiB.
            </p>
          ))}
          {listing.skipped.length > 0 && (
            <details>
              <summary>{listing.skipped.length} skipped</summary>
              <ul>
                {listing.skipped.map((s) => (
                  <li key={s}>{s}</li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}

      <div className="field-row">
        <TextField
          id="drop-slug"
          label="Project"
          list="drop-projects"
          {...slugField}
          error={errors.slug?.message}
          hint={
            slugValid ? (
              <span aria-live="polite">
                {existing ? `${slug} exists: this adds a deployment to it` : `Creates the project ${slug}`}
              </span>
            ) : (
              'An existing project, or a new name: lowercase letters, digits and hyphens.'
            )
          }
          required
        />
        <datalist id="drop-projects">
          {projects.data?.map((p) => (
            <option key={p.slug} value={p.slug} />
          ))}
        </datalist>
        <fieldset className="field">
          <legend>Target</legend>
          <label>
            <input type="radio" value="preview" {...form.register('target')} /> Preview (its own URL)
          </label>
          <label>
            <input type="radio" value="production" {...form.register('target')} /> Production
          </label>
        </fieldset>
      </div>

      {slugValid && !existing && <RegionsField regions={regions} field={regionField} nearestId={nearestId} />}
      {progress && <DropProgressBar progress={progress} />}
      {deploy.error && (
        <p className="form-error" role="alert">
          {describeError(deploy.error)}
        </p>
      )}
      {result && (
        <div className="notice" role="status" aria-label="Deployed">
          <p>
            Deployed {result.deployment.target === 'production' ? 'to production' : 'a preview'}:{' '}
            <a href={result.deployment.url} target="_blank" rel="noreferrer">
              {result.deployment.url}
            </a>
          </p>
          <p>
            Uploaded{' '}
            {result.uploaded
              .map((u) => `${u.blobs} ${u.blobs === 1 ? 'file' : 'files'} to ${u.region}`)
              .join(', ')}
            .{' '}
            <Link to="/deployments/$id" params={{ id: result.deployment.id }}>
              Open the deployment
            </Link>
          </p>
          {result.warnings.map((w) => (
            <p key={w} className="muted">
              warning: {w}
            </p>
          ))}
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy || blocked}>
          {busy ? 'Deploying…' : 'Deploy'}
        </button>
      </div>
    </form>
  );
}

const PHASE_LABEL: Record<DropProgress['phase'], string> = {
  hashing: 'Hashing',
  creating: 'Asking the regions what they lack',
  uploading: 'Uploading',
  finalizing: 'Checking and activating',
};

function DropProgressBar({ progress: p }: { progress: DropProgress }) {
  const hashing = p.phase === 'hashing';
  return (
    <div className="upload-progress" aria-label="Deploy progress">
      <label htmlFor="drop-progress">{PHASE_LABEL[p.phase]}</label>
      <progress
        id="drop-progress"
        max={hashing ? p.files : p.totalBytes || 1}
        value={hashing ? p.hashed : p.totalBytes ? p.uploadedBytes : p.phase === 'creating' ? undefined : 1}
      />
      <span className="upload-numbers">
        hashed {p.hashed}/{p.files}
        {!hashing && p.phase !== 'creating'
          ? ` · uploaded ${p.uploadedBlobs}/${p.blobs} (${formatBytes(p.uploadedBytes)} of ${formatBytes(p.totalBytes)})`
          : ''}
      </span>
    </div>
  );
}
