import {
  PasswordResetRequestBodySchema,
  PasswordSignInBodySchema,
  SessionBodySchema,
  type PasswordSignInBody,
  type SessionBody,
  type SessionView,
} from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { SsoButtons } from '../components/sso-buttons.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { enterSession } from '../lib/session.js';
import { useDocumentTitle } from '../lib/use-document-title.js';

type Method = 'password' | 'token' | 'forgot';

/**
 * Email and password by default; the platform's admin token (what `npm start` prints, and how the
 * first owner gets in) behind a switch. Either way the answer is an httpOnly session cookie, so
 * no credential stays in the page, where an XSS could read it.
 *
 * The configured single sign-on providers (`GET /auth/providers`) sit above the forms.
 */
export function SignInPage({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string | undefined }) {
  useDocumentTitle('Sign in');
  const [method, setMethod] = useState<Method>('password');
  const client = useQueryClient();
  const signedIn = (session: SessionView) => {
    onSignedIn();
    enterSession(client, session);
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
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {method === 'forgot' ? (
          <ForgotPasswordForm />
        ) : (
          <>
            <SsoButtons />
            {method === 'password' ? (
              <PasswordForm onSignedIn={signedIn} onForgot={() => setMethod('forgot')} />
            ) : (
              <TokenForm onSignedIn={signedIn} />
            )}
          </>
        )}
        <p className="sign-in-switch">
          <button
            type="button"
            className="link-button"
            onClick={() => setMethod(method === 'password' ? 'token' : 'password')}
          >
            {method === 'password' ? 'Sign in with the admin token' : 'Sign in with email and password'}
          </button>
        </p>
      </div>
    </main>
  );
}

/** A refusal without a field (too many attempts) goes above the button; one with a field under it. */
function formError(err: unknown): { field?: string; message: string } {
  const message = errorMessage(err, 'Could not sign in');
  return err instanceof ApiError && err.field ? { field: err.field, message } : { message };
}

function PasswordForm({
  onSignedIn,
  onForgot,
}: {
  onSignedIn: (s: SessionView) => void;
  onForgot: () => void;
}) {
  const form = useForm<PasswordSignInBody>({
    resolver: zodResolver(PasswordSignInBodySchema),
    defaultValues: { email: '', password: '' },
  });
  const [refusal, setRefusal] = useState<string | undefined>();
  const signIn = useMutation({
    mutationFn: api.signInWithPassword,
    onSuccess: onSignedIn,
    onError: (err) => {
      const { field, message } = formError(err);
      if (field === 'email' || field === 'password') form.setError(field, { type: 'server', message });
      else setRefusal(message);
    },
  });
  const { errors } = form.formState;
  const busy = signIn.isPending || signIn.isSuccess;

  return (
    <>
      <p className="muted">Sign in with your email and password.</p>
      <form
        onSubmit={form.handleSubmit((body) => {
          setRefusal(undefined);
          signIn.mutate(body);
        })}
        className="stack"
        noValidate
      >
        <TextField
          id="email"
          label="Email"
          type="email"
          autoComplete="username"
          autoFocus
          {...form.register('email')}
          error={errors.email?.message}
        />
        <TextField
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          {...form.register('password')}
          error={errors.password?.message}
        />
        {refusal && (
          <p className="form-error" role="alert">
            {refusal}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="sign-in-switch">
        <button type="button" className="link-button" onClick={onForgot}>
          Forgot password?
        </button>
      </p>
    </>
  );
}

/**
 * `POST /password-reset` always answers 202, whether the email has an account or not, so the
 * page says the same either way: nobody learns here which addresses have accounts.
 */
function ForgotPasswordForm() {
  const form = useForm<{ email: string }, unknown, { email: string }>({
    resolver: zodResolver(PasswordResetRequestBodySchema),
    defaultValues: { email: '' },
  });
  const [refusal, setRefusal] = useState<string | undefined>();
  const send = useMutation({
    mutationFn: (body: { email: string }) => api.requestPasswordReset(body.email),
    onError: (err) => {
      const { field, message } = formError(err);
      if (field === 'email') form.setError('email', { type: 'server', message });
      else setRefusal(message);
    },
  });
  const { errors } = form.formState;

  if (send.isSuccess) {
    return (
      <div className="stack">
        <p className="notice" role="status">
          If an account exists for {send.variables.email}, a link to choose a new password was sent to it. The
          link works once, for an hour.
        </p>
        <p className="field-hint">
          On a local platform no mail is sent: the link is in the control plane&apos;s log (a warning with
          &quot;outbox&quot;), where its operator can find it and pass it on.
        </p>
      </div>
    );
  }
  return (
    <>
      <p className="muted">Enter your account&apos;s email, and we send a link to choose a new password.</p>
      <form
        onSubmit={form.handleSubmit((body) => {
          setRefusal(undefined);
          send.mutate(body);
        })}
        className="stack"
        noValidate
        aria-label="Reset your password"
      >
        <TextField
          id="reset-email"
          label="Email"
          type="email"
          autoComplete="username"
          autoFocus
          {...form.register('email')}
          error={errors.email?.message}
        />
        {refusal && (
          <p className="form-error" role="alert">
            {refusal}
          </p>
        )}
        <button type="submit" className="primary" disabled={send.isPending}>
          {send.isPending ? 'Sending…' : 'Send the link'}
        </button>
      </form>
    </>
  );
}

function TokenForm({ onSignedIn }: { onSignedIn: (s: SessionView) => void }) {
  const form = useForm<SessionBody>({
    resolver: zodResolver(SessionBodySchema),
    defaultValues: { token: '' },
  });
  const token = useWatch({ control: form.control, name: 'token' });
  const signIn = useMutation({
    mutationFn: api.signIn,
    onSuccess: onSignedIn,
    onError: (err) => form.setError('token', { type: 'server', message: formError(err).message }),
  });
  const error = form.formState.errors.token?.message;

  return (
    <>
      <p className="muted">Sign in with the platform&apos;s admin token. `npm start` prints it.</p>
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
    </>
  );
}
