import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { focusFirstInvalid } from '../lib/focus-first-invalid.js';
import {
  ResetPasswordFormSchema,
  type ResetPasswordFormOutput,
  type ResetPasswordFormValues,
} from '../lib/form-schemas.js';
import { enterSession } from '../lib/session.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { useFragmentSecret } from '../lib/use-fragment-secret.js';

/** A new password from a one-time reset link, then signed in (public: the link is the credential). */
export function ResetPasswordPage() {
  useDocumentTitle('Choose a new password');
  const token = useFragmentSecret();
  const client = useQueryClient();
  const navigate = useNavigate();
  const form = useForm<ResetPasswordFormValues, unknown, ResetPasswordFormOutput>({
    resolver: zodResolver(ResetPasswordFormSchema),
    defaultValues: { password: '', confirm: '' },
  });
  const { errors } = form.formState;
  const [refusal, setRefusal] = useState<string | undefined>();
  const reset = useMutation({
    mutationFn: (body: ResetPasswordFormOutput) =>
      api.confirmPasswordReset({ token, password: body.password }),
    onSuccess: (session) => {
      enterSession(client, session);
      void navigate({ to: '/', replace: true });
    },
    onError: (err) => {
      const message = errorMessage(err, 'Could not set the password');
      if (err instanceof ApiError && err.field === 'password')
        form.setError('password', { type: 'server', message: message.replace(/^password: /, '') });
      else setRefusal(message);
    },
  });
  const busy = reset.isPending || reset.isSuccess;

  return (
    <div className="sign-in-card">
      <h1 tabIndex={-1}>Choose a new password</h1>
      {!token ? (
        <p className="form-error" role="alert">
          This reset link is incomplete: open the whole link you were sent, including the part after
          &quot;#&quot;.
        </p>
      ) : (
        <>
          <p className="muted">Your other sessions end, and you are signed in here.</p>
          <form
            className="stack"
            noValidate
            aria-label="Choose a new password"
            onSubmit={form.handleSubmit(
              (body) => {
                setRefusal(undefined);
                reset.mutate(body);
              },
              focusFirstInvalid(form.setFocus, ['password', 'confirm']),
            )}
          >
            <TextField
              id="reset-password"
              label="New password"
              type="password"
              autoComplete="new-password"
              autoFocus
              hint="At least 12 characters."
              {...form.register('password')}
              error={errors.password?.message}
            />
            <TextField
              id="reset-confirm"
              label="Confirm the new password"
              type="password"
              autoComplete="new-password"
              {...form.register('confirm')}
              error={errors.confirm?.message}
            />
            {refusal && (
              <p className="form-error" role="alert">
                {refusal}
              </p>
            )}
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Saving…' : 'Set the password and sign in'}
            </button>
          </form>
        </>
      )}
      <p className="sign-in-switch">
        {/* The sign-in page (signed out, any path shows it) has "Forgot password?" for a new link. */}
        <Link to="/">Back to DeploySphere</Link>
      </p>
    </div>
  );
}
