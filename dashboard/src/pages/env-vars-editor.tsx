import type { ProjectView } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useForm, useWatch } from 'react-hook-form';
import { api } from '../api/endpoints.js';
import { SaveNotice } from '../components/save-notice.js';
import { TextField } from '../components/text-field.js';
import { EnvVarFormSchema, type EnvVarFormOutput, type EnvVarFormValues } from '../lib/form-schemas.js';
import { useProjectChange, type ProjectChange } from '../lib/use-project-change.js';

/**
 * Names only: the API never returns values, so this cannot show them either. A value can be set
 * (or replaced) and a variable removed; each change is one PATCH with `env`.
 */
export function EnvVarsEditor({ project }: { project: ProjectView }) {
  const form = useForm<EnvVarFormValues, unknown, EnvVarFormOutput>({
    resolver: zodResolver(EnvVarFormSchema),
    mode: 'onChange',
    defaultValues: { name: '', value: '' },
  });
  const { errors } = form.formState;
  const name = useWatch({ control: form.control, name: 'name' });
  const { busy, result, save } = useProjectChange(
    (change: ProjectChange & { env: Record<string, string | null> }) =>
      api.updateProject(project.slug, { env: change.env }),
  );

  const add = form.handleSubmit(async ({ name, value }) => {
    const replaced = project.envKeys.includes(name);
    const done = `${name} ${replaced ? 'replaced' : 'added'}.`;
    // The value is write-only: once saved it leaves the page.
    if (await save({ item: '+', env: { [name]: value }, done })) form.reset();
  });

  return (
    <section className="card" aria-labelledby="env-heading">
      <h2 id="env-heading">Environment variables</h2>
      <p className="field-hint">
        Values are write-only: they reach the build and are never shown again. The next deployment picks up
        changes.
      </p>
      {project.envKeys.length === 0 ? (
        <p className="muted">No variables yet.</p>
      ) : (
        <ul className="env-list" aria-label="Variables">
          {project.envKeys.map((key) => (
            <li key={key}>
              <code>{key}</code>
              <span className="muted" aria-hidden="true">
                ••••••••
              </span>
              <button
                type="button"
                className="quiet"
                disabled={busy !== undefined}
                onClick={() => void save({ item: key, env: { [key]: null }, done: `${key} removed.` })}
                aria-label={`Remove ${key}`}
              >
                {busy === key ? 'Removing…' : 'Remove'}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="env-add" onSubmit={add} noValidate aria-label="Add a variable">
        <TextField
          id="env-name"
          label="Name"
          {...form.register('name')}
          error={errors.name?.message}
          className="mono"
          autoComplete="off"
        />
        <TextField
          id="env-value"
          label="Value"
          type="password"
          {...form.register('value')}
          error={errors.value?.message}
          autoComplete="new-password"
        />
        <button type="submit" disabled={busy !== undefined}>
          {busy === '+' ? 'Saving…' : project.envKeys.includes(name) ? 'Replace value' : 'Add variable'}
        </button>
      </form>
      <SaveNotice result={result} />
    </section>
  );
}
