import { HostnameSchema, type ProjectView } from '@deploysphere/contracts';
import { useState, type FormEvent } from 'react';
import { api } from '../api/endpoints.js';
import { SaveNotice } from '../components/save-notice.js';
import { TextField } from '../components/text-field.js';
import { fieldError } from '../lib/field-error.js';
import { useSaveAction } from '../lib/use-save-action.js';

/** Custom domains serve the production deployment; each add or remove is one API call. */
export function DomainsEditor({
  project,
  onSaved,
}: {
  project: ProjectView;
  onSaved: (p: ProjectView) => void;
}) {
  const [hostname, setHostname] = useState('');
  const [touched, setTouched] = useState(false);
  const { busy, result, run } = useSaveAction(onSaved);
  const error = fieldError(HostnameSchema, hostname);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (error) return;
    const name = hostname.trim().toLowerCase();
    if (await run('+', () => api.addDomain(project.slug, { hostname: name }), `${name} added.`)) {
      setHostname('');
      setTouched(false);
    }
  };

  const remove = (name: string) =>
    run(
      name,
      async () => {
        await api.removeDomain(project.slug, name);
        return api.project(project.slug);
      },
      `${name} removed.`,
    );

  return (
    <section className="card" aria-labelledby="domains-heading">
      <h2 id="domains-heading">Custom domains</h2>
      <p className="field-hint">
        A domain serves the production deployment once its DNS points at the edge. Promotions and new
        deployments move it along with the production URL.
      </p>
      {project.domains.length === 0 ? (
        <p className="muted">No custom domains yet.</p>
      ) : (
        <ul className="env-list" aria-label="Domains">
          {project.domains.map((name) => (
            <li key={name}>
              <code>{name}</code>
              <button
                type="button"
                className="quiet"
                disabled={busy !== undefined}
                onClick={() => void remove(name)}
                aria-label={`Remove ${name}`}
              >
                {busy === name ? 'Removing…' : 'Remove'}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="env-add" onSubmit={add} noValidate aria-label="Add a domain">
        <TextField
          id="domain-hostname"
          label="Domain"
          value={hostname}
          placeholder="www.example.com"
          onChange={(e) => setHostname(e.target.value)}
          error={touched || hostname ? error : undefined}
          autoComplete="off"
        />
        <button type="submit" disabled={busy !== undefined}>
          {busy === '+' ? 'Adding…' : 'Add domain'}
        </button>
      </form>
      <SaveNotice result={result} />
    </section>
  );
}
