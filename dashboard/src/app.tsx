import { useEffect, useState, type FormEvent } from 'react';
import type { Region } from '@deploysphere/contracts';
import { api, ApiError } from './api.js';

const TOKEN_KEY = 'deploysphere.token';

type Load<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ok'; value: T };

export function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? '');
  if (!token) {
    return (
      <SignIn
        onSignIn={(t) => {
          sessionStorage.setItem(TOKEN_KEY, t);
          setToken(t);
        }}
      />
    );
  }
  return (
    <main>
      <header>
        <h1>DeploySphere</h1>
        <button
          type="button"
          onClick={() => {
            sessionStorage.removeItem(TOKEN_KEY);
            setToken('');
          }}
        >
          Sign out
        </button>
      </header>
      <Regions token={token} />
    </main>
  );
}

function SignIn({ onSignIn }: { onSignIn: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.regions(value.trim());
      onSignIn(value.trim());
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reach the control plane');
    }
  };
  return (
    <main>
      <h1>DeploySphere</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          autoComplete="off"
        />
        <button type="submit" disabled={value.trim() === ''}>
          Sign in
        </button>
        {error && <p role="alert">{error}</p>}
      </form>
    </main>
  );
}

function Regions({ token }: { token: string }) {
  const [regions, setRegions] = useState<Load<Region[]>>({ state: 'loading' });
  useEffect(() => {
    api.regions(token).then(
      (value) => setRegions({ state: 'ok', value }),
      (err: Error) => setRegions({ state: 'error', message: err.message }),
    );
  }, [token]);
  if (regions.state === 'loading') return <p>Loading regions…</p>;
  if (regions.state === 'error') return <p role="alert">{regions.message}</p>;
  return (
    <section>
      <h2>Regions</h2>
      <ul>
        {regions.value.map((r) => (
          <li key={r.id}>
            <strong>{r.id}</strong> {r.name}
          </li>
        ))}
      </ul>
    </section>
  );
}
