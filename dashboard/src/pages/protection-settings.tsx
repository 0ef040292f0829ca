import type {
  ProjectView,
  ProtectionMode,
  ProtectionSettings as ProtectionView,
} from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm, useWatch } from 'react-hook-form';
import { rememberProject } from '../api/cache.js';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { SaveNotice } from '../components/save-notice.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { focusFirstInvalid } from '../lib/focus-first-invalid.js';
import {
  ProtectionFormSchema,
  type ProtectionFormOutput,
  type ProtectionFormValues,
} from '../lib/form-schemas.js';

/** An older control plane's view has no `protection`: its projects are public. */
const PUBLIC: ProtectionView = { mode: 'none', production: false, passwordSet: false };

const MODES: { mode: ProtectionMode; label: string; hint: string }[] = [
  { mode: 'none', label: 'Public', hint: 'Anyone with the link opens the site.' },
  {
    mode: 'team',
    label: 'Team members',
    hint: "Visitors sign in to the dashboard; any role in the project's team gets through.",
  },
  {
    mode: 'password',
    label: 'Password',
    hint: 'Visitors enter a shared password; signed-in team members get through without it.',
  },
];

/** The API's `protection.password: …` names its field, which the form already shows. */
const FIELD_OF: Record<string, 'mode' | 'password'> = {
  'protection.mode': 'mode',
  'protection.password': 'password',
};

const valuesOf = (p: ProjectView): ProtectionFormValues => {
  const now = p.protection ?? PUBLIC;
  return { mode: now.mode, production: now.production, password: '', passwordSet: now.passwordSet };
};

/**
 * Who may open the project's preview hosts (and, if asked, production): docs/protected-previews.md.
 * The password is write-only: the view says whether one is set, never what it is.
 */
export function ProtectionSettings({ project }: { project: ProjectView }) {
  const client = useQueryClient();
  const form = useForm<ProtectionFormValues, unknown, ProtectionFormOutput>({
    resolver: zodResolver(ProtectionFormSchema),
    shouldFocusError: false, // see focusFirstInvalid
    defaultValues: valuesOf(project),
  });
  const { errors, isDirty } = form.formState;
  const [mode, passwordSet] = useWatch({ control: form.control, name: ['mode', 'passwordSet'] });
  const save = useMutation({
    mutationFn: (body: ProtectionFormOutput) => api.updateProject(project.slug, body),
    onSuccess: (saved) => {
      rememberProject(client, saved);
      form.reset(valuesOf(saved));
    },
    onError: (err) => {
      if (!(err instanceof ApiError) || !err.field) return;
      const field = FIELD_OF[err.field];
      if (field) form.setError(field, { type: 'server', message: err.message.replace(`${err.field}: `, '') });
    },
  });
  const underField = save.error instanceof ApiError && save.error.field && FIELD_OF[save.error.field];
  const result = save.isSuccess
    ? { ok: true, message: 'Saved. Visitors who were let in before sign in again.' }
    : save.isError && !underField
      ? { ok: false, message: errorMessage(save.error, 'Could not save') }
      : undefined;
  const modeError = errors.mode?.message;

  return (
    <form
      className="card form-grid"
      noValidate
      aria-labelledby="protection-heading"
      onSubmit={form.handleSubmit(
        (body) => save.mutate(body),
        focusFirstInvalid(form.setFocus, ['mode', 'password']),
      )}
    >
      <h2 id="protection-heading">Protection</h2>
      <fieldset
        className={`field protection-modes${modeError ? ' invalid' : ''}`}
        aria-describedby={modeError ? 'protection-mode-error' : undefined}
      >
        <legend>Who may open preview URLs</legend>
        {MODES.map((m) => (
          <label key={m.mode} className="checkbox">
            <input
              type="radio"
              value={m.mode}
              aria-invalid={modeError ? true : undefined}
              {...form.register('mode')}
            />{' '}
            <span>
              <strong>{m.label}</strong> <span className="muted">{m.hint}</span>
            </span>
          </label>
        ))}
        {modeError && (
          <p id="protection-mode-error" className="field-error">
            {modeError}
          </p>
        )}
      </fieldset>
      {mode !== 'none' && (
        <div className="field">
          <label className="checkbox" htmlFor="protection-production">
            <input id="protection-production" type="checkbox" {...form.register('production')} />
            Protect production too
          </label>
          <p className="field-hint">
            Off: only previews (each deployment&apos;s own URL and branch URLs) are protected; the production
            URL and custom domains stay public.
          </p>
        </div>
      )}
      {mode === 'password' && (
        <TextField
          id="protection-password"
          label={passwordSet ? 'New password (optional)' : 'Password'}
          type="password"
          autoComplete="new-password"
          hint={
            passwordSet
              ? 'A password is set. Leave this empty to keep it.'
              : 'At least 8 characters. Share it with the people who should see the previews.'
          }
          {...form.register('password')}
          error={errors.password?.message}
        />
      )}
      <p className="field-hint">
        Saving a change signs every visitor of this project&apos;s protected URLs out, so a new password takes
        effect at once.
      </p>
      <SaveNotice result={result} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending || !isDirty}>
          {save.isPending ? 'Saving…' : 'Save protection'}
        </button>
      </div>
    </form>
  );
}
