import { SessionBodySchema, type SessionBody } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm, useWatch } from 'react-hook-form';
import { api } from '../api/endpoints.js';
import { queryKeys } from '../api/query-keys.js';
import { errorMessage } from '../lib/error-message.js';
import { useDocumentTitle } from '../lib/use-document-title.js';

/**
 * Trades the API token for an httpOnly session cookie: after this the token lives nowhere in the
 * page, so an XSS could not read it.
 */
export function SignInPage({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string | undefined }) {
  useDocumentTitle('Sign in');
  const client = useQueryClient();
  const form = useForm<SessionBody>({
    resolver: zodResolver(SessionBodySchema),
    defaultValues: { token: '' },
  });
  const token = useWatch({ control: form.control, name: 'token' });
  const signIn = useMutation({
    mutationFn: api.signIn,
    onSuccess: (session) => {
      onSignedIn();
      client.setQueryData(queryKeys.session, session);
    },
    onError: (err) =>
      form.setError('token', { type: 'server', message: errorMessage(err, 'Could not sign in') }),
  });
  const error = form.formState.errors.token?.message;

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
        <form
          onSubmit={form.handleSubmit((body) => signIn.mutate({ token: body.token.trim() }))}
          className="stack"
          noValidate
        >
          <div className={`field${error ? ' invalid' : ''}`}>
            <label htmlFor="token">API token</label>
            <input
              id="token"
              type="password"
              {...form.register('token')}
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
          <button
            type="submit"
            className="primary"
            disabled={token.trim() === '' || signIn.isPending || signIn.isSuccess}
          >
            {signIn.isPending || signIn.isSuccess ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
