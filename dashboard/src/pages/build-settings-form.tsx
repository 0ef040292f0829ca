import type { ProjectView } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useController, useForm } from 'react-hook-form';
import { rememberProject } from '../api/cache.js';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { regionsQuery } from '../api/queries.js';
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
  installCommand: p.installCommand ?? '',
  buildCommand: p.buildCommand ?? '',
  outputDir: p.outputDir ?? '',
  regions: p.regions,
});

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
        <TextField
          id="settings-install"
          label="Install command"
          {...form.register('installCommand')}
          error={errors.installCommand?.message}
          className="mono"
        />
        <TextField
          id="settings-build"
          label="Build command"
          {...form.register('buildCommand')}
          error={errors.buildCommand?.message}
          className="mono"
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
      <SaveNotice result={result} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending || invalid}>
          {save.isPending ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}
