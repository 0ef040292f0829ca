import { EnvKeySchema, EnvValueSchema, type ProjectView } from '@deploysphere/contracts';
import { useState, type FormEvent } from 'react';
import { api } from '../api/endpoints.js';
import { SaveNotice } from '../components/save-notice.js';
import { TextField } from '../components/text-field.js';
import { fieldError } from '../lib/field-error.js';
import { useSaveAction } from '../lib/use-save-action.js';

/**
 * Names only: the API never returns values, so this cannot show them either. A value can be set
 * (or replaced) and a variable removed; each change is one PATCH with `env`.
 */
export function EnvVarsEditor({
  project,
  onSaved,
}: {
  project: ProjectView;
  onSaved: (p: ProjectView) => void;
}) {
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [touched, setTouched] = useState(false);
  const { busy, result, run } = useSaveAction(onSaved);

  const nameError = fieldError(EnvKeySchema, name);
  const valueError = fieldError(EnvValueSchema, value);

  const patch = (env: Record<string, string | null>, done: string, key: string) =>
    run(key, () => api.updateProject(project.slug, { env }), done);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (nameError || valueError) return;
    const replaced = project.envKeys.includes(name);
    if (await patch({ [name]: value }, `${name} ${replaced ? 'replaced' : 'added'}.`, '+')) {
      setName('');
      setValue('');
      setTouched(false);
    }
  };

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
                onClick={() => void patch({ [key]: null }, `${key} removed.`, key)}
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
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={touched || name ? nameError : undefined}
          className="mono"
          autoComplete="off"
        />
        <TextField
          id="env-value"
          label="Value"
          type="password"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          error={touched ? valueError : undefined}
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
