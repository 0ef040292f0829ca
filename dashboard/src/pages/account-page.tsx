import { TokenScopeSchema, type CreatedToken, type TokenView } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { meQuery, projectListQuery, tokensQuery } from '../api/queries.js';
import { queryKeys } from '../api/query-keys.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { SecretOnce } from '../components/secret-once.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { focusFirstInvalid } from '../lib/focus-first-invalid.js';
import { TokenFormSchema, type TokenFormOutput, type TokenFormValues } from '../lib/form-schemas.js';
import { absoluteTime, timeAgo } from '../lib/format.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { CreateTeam } from './create-team.js';

const SCOPE_HINTS = {
  read: 'read: see projects, deployments and logs',
  deploy: 'deploy: also deploy, promote and change settings',
  admin: 'admin: also manage members and delete',
} as const;

/** Who you are, and your API tokens (for the CLI and CI). */
export function AccountPage() {
  useDocumentTitle('Account');
  const me = useQuery(meQuery());
  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Account</h1>
      </div>
      {me.isPending && <LoadingState label="Loading…" />}
      {me.isError && !me.data && <ErrorState error={me.error} onRetry={() => void me.refetch()} />}
      {me.data?.kind === 'root' && (
        <section className="card">
          <h2>Signed in with the admin token</h2>
          <p>
            The admin token is the platform&apos;s root key: it owns the default team. API tokens belong to
            users, so invite yourself from the team page and sign in with your email to create them.
          </p>
        </section>
      )}
      {me.data?.kind === 'token' && (
        <section className="card">
          <p>
            This session acts through an API token; tokens can be managed only from a user&apos;s sign-in.
          </p>
        </section>
      )}
      {me.data?.user && me.data.kind === 'user' && (
        <div className="settings">
          <section className="card" aria-labelledby="profile-heading">
            <h2 id="profile-heading">Profile</h2>
            <dl className="facts">
              <div>
                <dt>Name</dt>
                <dd>{me.data.user.name}</dd>
              </div>
              <div>
                <dt>Email</dt>
                <dd>{me.data.user.email}</dd>
              </div>
              <div>
                <dt>Teams</dt>
                <dd>
                  {me.data.teams.length === 0
                    ? 'none'
                    : me.data.teams.map((t, i) => (
                        <span key={t.id}>
                          {i > 0 && ', '}
                          <Link to="/teams/$team" params={{ team: t.slug }}>
                            {t.name}
                          </Link>{' '}
                          ({t.role})
                        </span>
                      ))}
                </dd>
              </div>
            </dl>
          </section>
          <Tokens teams={me.data.teams.map((t) => t.slug)} />
          <CreateTeam />
        </div>
      )}
    </>
  );
}

function restriction(t: TokenView): string {
  if (t.project) return `Project ${t.project}`;
  if (t.team) return `Team ${t.team}`;
  return 'All your teams';
}

function Tokens({ teams }: { teams: string[] }) {
  const client = useQueryClient();
  const tokens = useQuery(tokensQuery());
  const [created, setCreated] = useState<CreatedToken | undefined>();
  const [revoking, setRevoking] = useState<TokenView | undefined>();
  const revoke = useMutation({
    mutationFn: (id: string) => api.revokeToken(id),
    onSuccess: (_, id) => {
      setRevoking(undefined);
      if (created?.id === id) setCreated(undefined);
      client.setQueryData(queryKeys.tokens, (list: TokenView[] | undefined) =>
        list?.filter((t) => t.id !== id),
      );
      void client.invalidateQueries({ queryKey: queryKeys.tokens });
    },
  });

  return (
    <section className="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      <p className="field-hint">
        For the CLI and CI: <code>Authorization: Bearer &lt;token&gt;</code>. A token never does more than
        your role in a team allows, and stops working when you leave it.
      </p>
      {tokens.isPending && <LoadingState label="Loading tokens…" />}
      {tokens.isError && !tokens.data && (
        <ErrorState error={tokens.error} onRetry={() => void tokens.refetch()} />
      )}
      {tokens.data?.length === 0 && <p className="muted">No tokens yet.</p>}
      {tokens.data && tokens.data.length > 0 && (
        <div className="table-wrap">
          <table className="history tokens" aria-label="API tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Restricted to</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id}>
                  <td data-label="Name">{t.name}</td>
                  <td data-label="Scopes">{t.scopes.join(', ')}</td>
                  <td data-label="Restricted to">{restriction(t)}</td>
                  <td data-label="Last used">
                    {t.lastUsedAt ? (
                      <time dateTime={t.lastUsedAt} title={absoluteTime(t.lastUsedAt)}>
                        {timeAgo(t.lastUsedAt)}
                      </time>
                    ) : (
                      'Never'
                    )}
                  </td>
                  <td data-label="Expires">
                    {t.expiresAt ? <time dateTime={t.expiresAt}>{absoluteTime(t.expiresAt)}</time> : 'Never'}
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="quiet"
                      aria-label={`Revoke ${t.name}`}
                      onClick={() => {
                        revoke.reset();
                        setRevoking(t);
                      }}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {created && (
        <SecretOnce label="Token" value={created.token} onDone={() => setCreated(undefined)}>
          <p>
            <strong>Copy the token now: it is not shown again.</strong> {created.name} can{' '}
            {created.scopes.join(', ')}
            {created.expiresAt ? `, until ${absoluteTime(created.expiresAt)}` : ', and never expires'}.
          </p>
        </SecretOnce>
      )}
      <CreateToken
        teams={teams}
        onCreated={(t) => {
          setCreated(t);
          const { token: _secret, ...view } = t;
          // The list never holds the secret: only the view's fields go into the cache.
          client.setQueryData(queryKeys.tokens, (list: TokenView[] | undefined) => [view, ...(list ?? [])]);
          void client.invalidateQueries({ queryKey: queryKeys.tokens });
        }}
      />
      {revoking && (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirmLabel="Revoke"
          busy={revoke.isPending}
          error={revoke.isError ? errorMessage(revoke.error, 'Could not revoke the token') : undefined}
          onConfirm={() => revoke.mutate(revoking.id)}
          onCancel={() => setRevoking(undefined)}
        >
          <p>Anything using it (the CLI, a CI job) is refused from now on. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

const FIELD_ORDER = ['name', 'scopes', 'team', 'project', 'expiresInDays'] as const;

function CreateToken({ teams, onCreated }: { teams: string[]; onCreated: (t: CreatedToken) => void }) {
  const projects = useQuery(projectListQuery());
  const form = useForm<TokenFormValues, unknown, TokenFormOutput>({
    resolver: zodResolver(TokenFormSchema),
    defaultValues: { name: '', scopes: ['read'], team: '', project: '', expiresInDays: '90' },
  });
  const { errors } = form.formState;
  const create = useMutation({
    mutationFn: api.createToken,
    onSuccess: (t) => {
      onCreated(t);
      form.reset();
    },
    onError: (err) => {
      const field = err instanceof ApiError ? err.field : undefined;
      const known = FIELD_ORDER.find((f) => f === field);
      if (known) form.setError(known, { type: 'server', message: errorMessage(err, '') });
    },
  });
  const failed = create.error;
  const fieldError = failed && !(failed instanceof ApiError && FIELD_ORDER.some((f) => f === failed.field));
  const scopesError = errors.scopes?.message ?? errors.scopes?.root?.message;

  return (
    <form
      className="form-grid token-form"
      noValidate
      aria-labelledby="new-token-heading"
      onSubmit={form.handleSubmit(
        (body) => create.mutate(body),
        focusFirstInvalid(form.setFocus, FIELD_ORDER),
      )}
    >
      <h3 id="new-token-heading">New token</h3>
      <div className="field-row">
        <TextField
          id="token-name"
          label="Name"
          autoComplete="off"
          hint="What uses it, e.g. “GitHub Actions”."
          {...form.register('name')}
          error={errors.name?.message}
        />
        <TextField
          id="token-expiry"
          label="Expires in (days)"
          type="number"
          inputMode="numeric"
          min={1}
          max={366}
          hint="Empty: never expires."
          {...form.register('expiresInDays')}
          error={errors.expiresInDays?.message}
        />
      </div>
      <fieldset
        className={`field${scopesError ? ' invalid' : ''}`}
        aria-describedby={scopesError ? 'token-scopes-error' : undefined}
      >
        <legend>Scopes</legend>
        {TokenScopeSchema.options.map((s) => (
          <label key={s} className="checkbox">
            <input
              type="checkbox"
              value={s}
              aria-invalid={scopesError ? true : undefined}
              {...form.register('scopes')}
            />{' '}
            {SCOPE_HINTS[s]}
          </label>
        ))}
        {scopesError && (
          <p id="token-scopes-error" className="field-error">
            {scopesError}
          </p>
        )}
      </fieldset>
      <div className="field-row">
        <div className={`field${errors.team ? ' invalid' : ''}`}>
          <label htmlFor="token-team">Restrict to team</label>
          <select
            id="token-team"
            {...form.register('team')}
            aria-invalid={errors.team ? true : undefined}
            aria-describedby={errors.team ? 'token-team-error' : undefined}
          >
            <option value="">Any of my teams</option>
            {teams.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          {errors.team && (
            <p id="token-team-error" className="field-error">
              {errors.team.message}
            </p>
          )}
        </div>
        <div className={`field${errors.project ? ' invalid' : ''}`}>
          <label htmlFor="token-project">Restrict to project</label>
          <select
            id="token-project"
            {...form.register('project')}
            aria-invalid={errors.project ? true : undefined}
            aria-describedby={errors.project ? 'token-project-error' : undefined}
          >
            <option value="">Any project</option>
            {projects.data?.map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.slug}
              </option>
            ))}
          </select>
          {errors.project && (
            <p id="token-project-error" className="field-error">
              {errors.project.message}
            </p>
          )}
        </div>
      </div>
      {fieldError && (
        <p className="form-error" role="alert">
          {errorMessage(create.error, 'Could not create the token')}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create token'}
        </button>
      </div>
    </form>
  );
}
