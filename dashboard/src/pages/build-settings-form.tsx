import type { BuildPresetReport, ProjectView } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useController, useForm, useWatch } from 'react-hook-form';
import { rememberProject } from '../api/cache.js';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { deploymentQuery, regionsQuery } from '../api/queries.js';
import { CommandField } from '../components/command-field.js';
import { RegionsField } from '../components/regions-field.js';
import { SaveNotice } from '../components/save-notice.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { focusFirstInvalid } from '../lib/focus-first-invalid.js';
import {
  BuildSettingsFormSchema,
  type BuildSettingsFormOutput,
  type BuildSettingsFormValues,
} from '../lib/form-schemas.js';

/** The form's fields in the order the page shows them. */
const FIELDS = ['installCommand', 'buildCommand', 'outputDir', 'regions'] as const;

const valuesOf = (p: ProjectView): BuildSettingsFormValues => ({
  installOverride: p.installCommand !== null,
  installCommand: p.installCommand ?? '',
  buildOverride: p.buildCommand !== null,
  buildCommand: p.buildCommand ?? '',
  outputDir: p.outputDir ?? '',
  regions: p.regions,
  buildCacheEnabled: p.buildCacheEnabled,
});

/** What the last build detected for a command, for the placeholder of a command left unset. */
function detectedText(preset: BuildPresetReport | null | undefined, which: 'install' | 'build'): string {
  if (!preset || preset[`${which}From`] !== 'preset') return 'detected from the repository at build time';
  const command = preset[`${which}Command`];
  return command ? `detected: ${command}` : 'detected: none (skipped)';
}

/** Build settings and regions apply from the next deployment on; the running site is untouched. */
export function BuildSettingsForm({ project }: { project: ProjectView }) {
  const client = useQueryClient();
  const regions = useQuery(regionsQuery());
  const form = useForm<BuildSettingsFormValues, unknown, BuildSettingsFormOutput>({
    resolver: zodResolver(BuildSettingsFormSchema),
    mode: 'onChange',
    shouldFocusError: false, // see focusFirstInvalid
    // Taken once: a change elsewhere (an env var) must not overwrite what is being typed here.
    defaultValues: valuesOf(project),
  });
  const { errors } = form.formState;
  const [installOverride, buildOverride] = useWatch({
    control: form.control,
    name: ['installOverride', 'buildOverride'],
  });
  // The newest deployment says what was detected: the placeholder of a command left unset.
  const latestId = project.latestDeployment?.id;
  const latest = useQuery({ ...deploymentQuery(latestId ?? ''), enabled: latestId !== undefined });
  const preset = latest.data?.preset;
  const regionField = useController({ control: form.control, name: 'regions' });
  const save = useMutation({
    mutationFn: (body: BuildSettingsFormOutput) => api.updateProject(project.slug, body),
    onSuccess: (saved) => {
      rememberProject(client, saved);
      form.reset(valuesOf(saved));
    },
    onError: (err) => {
      // A message about one field also goes under that field.
      const field = err instanceof ApiError ? FIELDS.find((f) => f === err.field?.split('.')[0]) : undefined;
      if (field) form.setError(field, { type: 'server', message: err.message });
    },
  });
  const result = save.isSuccess
    ? { ok: true, message: 'Saved. The next deployment uses these settings.' }
    : save.isError
      ? { ok: false, message: errorMessage(save.error, 'Could not save') }
      : undefined;
  const invalid = Object.keys(errors).length > 0;

  return (
    <form
      className="card form-grid"
      onSubmit={form.handleSubmit((body) => save.mutate(body), focusFirstInvalid(form.setFocus, FIELDS))}
      noValidate
      aria-labelledby="build-settings"
    >
      <h2 id="build-settings">Build and regions</h2>
      <div className="field-row">
        <CommandField
          id="settings-install"
          label="Install command"
          overrideLabel="Override the detected install command"
          override={installOverride}
          overrideProps={form.register('installOverride')}
          inputProps={form.register('installCommand')}
          detected={detectedText(preset, 'install')}
          error={errors.installCommand?.message}
        />
        <CommandField
          id="settings-build"
          label="Build command"
          overrideLabel="Override the detected build command"
          override={buildOverride}
          overrideProps={form.register('buildOverride')}
          inputProps={form.register('buildCommand')}
          detected={detectedText(preset, 'build')}
          error={errors.buildCommand?.message}
        />
      </div>
      <TextField
        id="settings-output"
        label="Output directory (optional)"
        {...form.register('outputDir')}
        error={errors.outputDir?.message}
        hint="Leave empty to detect it."
        className="mono"
      />
      <RegionsField regions={regions} field={regionField} />
      <div className="field">
        <label className="checkbox" htmlFor="settings-cache">
          <input id="settings-cache" type="checkbox" {...form.register('buildCacheEnabled')} />
          Build cache
        </label>
        <p className="field-hint">
          Restores the package manager&apos;s and the framework&apos;s caches (and node_modules when the
          lockfile is unchanged) from earlier builds. Off: nothing is restored or saved.
        </p>
      </div>
      <SaveNotice result={result} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending || invalid}>
          {save.isPending ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}
