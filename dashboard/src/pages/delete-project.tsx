import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';

/** Deleting takes every deployment and the site's URLs with it, so the slug must be typed out. */
export function DeleteProject({ slug, onDeleted }: { slug: string; onDeleted: () => void }) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (typed !== slug) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.deleteProject(slug);
      onDeleted();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not delete');
      setBusy(false);
    }
  };

  return (
    <section className="card danger-zone" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete project</h2>
      <p>
        This takes <strong>{slug}</strong> offline at once and removes its deployments. It cannot be undone.
      </p>
      <form onSubmit={submit} className="stack">
        <div className="field">
          <label htmlFor="delete-confirm">
            Type <code>{slug}</code> to confirm
          </label>
          <input
            id="delete-confirm"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            autoCapitalize="off"
          />
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="danger" disabled={typed !== slug || busy}>
          {busy ? 'Deleting…' : `Delete ${slug}`}
        </button>
      </form>
    </section>
  );
}
