import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { useDocumentTitle } from '../lib/use-document-title.js';

/**
 * Trades the API token for an httpOnly session cookie: after this the token lives nowhere in the
 * page, so an XSS could not read it.
 */
export function SignInPage({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string | undefined }) {
  useDocumentTitle('Sign in');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api.signIn({ token: token.trim() });
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not sign in');
      setBusy(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <div className="sign-in-card">
        <h1>
          <span className="logo" aria-hidden="true">
            ◆
          </span>{' '}
          DeploySphere
        </h1>
        <p className="muted">Sign in with the platform&apos;s API token. `npm start` prints it.</p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} className="stack">
          <div className={`field${error ? ' invalid' : ''}`}>
            <label htmlFor="token">API token</label>
            <input
              id="token"
              type="password"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              autoComplete="current-password"
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? 'token-error' : undefined}
              autoFocus
            />
            {error && (
              <p id="token-error" className="field-error" role="alert">
                {error}
              </p>
            )}
          </div>
          <button type="submit" className="primary" disabled={token.trim() === '' || busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
