import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { focusFirstInvalid } from '../lib/focus-first-invalid.js';
import {
  InvitationFormSchema,
  type InvitationFormOutput,
  type InvitationFormValues,
} from '../lib/form-schemas.js';
import { enterSession } from '../lib/session.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { useFragmentSecret } from '../lib/use-fragment-secret.js';

/** Accepting an invitation: a name and a password, then signed in (public: the link is the credential). */
export function InvitationPage() {
  useDocumentTitle('Accept the invitation');
  const token = useFragmentSecret();
  const client = useQueryClient();
  const navigate = useNavigate();
  const form = useForm<InvitationFormValues, unknown, InvitationFormOutput>({
    resolver: zodResolver(InvitationFormSchema),
    defaultValues: { name: '', password: '', confirm: '' },
  });
  const { errors } = form.formState;
  const [refusal, setRefusal] = useState<string | undefined>();
  const accept = useMutation({
    mutationFn: (body: InvitationFormOutput) =>
      api.acceptInvitation({ token, name: body.name, password: body.password }),
    onSuccess: (session) => {
      enterSession(client, session);
      void navigate({ to: '/', replace: true });
    },
    onError: (err) => {
      const message = errorMessage(err, 'Could not accept the invitation');
      const field = err instanceof ApiError ? err.field : undefined;
      if (field === 'name' || field === 'password') form.setError(field, { type: 'server', message });
      else setRefusal(message);
    },
  });
  const busy = accept.isPending || accept.isSuccess;

  return (
    <div className="sign-in-card">
      <h1 tabIndex={-1}>Join DeploySphere</h1>
      {!token ? (
        <p className="form-error" role="alert">
          This invitation link is incomplete: open the whole link you were sent, including the part after
          &quot;#&quot;.
        </p>
      ) : (
        <>
          <p className="muted">
            Choose your name and a password. If this email already has an account, enter its password.
          </p>
          <form
            className="stack"
            noValidate
            aria-label="Accept the invitation"
            onSubmit={form.handleSubmit(
              (body) => {
                setRefusal(undefined);
                accept.mutate(body);
              },
              focusFirstInvalid(form.setFocus, ['name', 'password', 'confirm']),
            )}
          >
            <TextField
              id="invite-name"
              label="Your name"
              autoComplete="name"
              autoFocus
              {...form.register('name')}
              error={errors.name?.message}
            />
            <TextField
              id="invite-password"
              label="Password"
              type="password"
              autoComplete="new-password"
              hint="At least 12 characters."
              {...form.register('password')}
              error={errors.password?.message}
            />
            <TextField
              id="invite-confirm"
              label="Confirm password"
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
              {busy ? 'Joining…' : 'Join and sign in'}
            </button>
          </form>
        </>
      )}
    </div>
  );
}
