import {
  TeamRoleSchema,
  type CreatedInvitation,
  type MemberView,
  type TeamRole,
} from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { meQuery, membersQuery } from '../api/queries.js';
import { queryKeys } from '../api/query-keys.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { SecretOnce } from '../components/secret-once.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { InviteFormSchema, type InviteFormOutput, type InviteFormValues } from '../lib/form-schemas.js';
import { absoluteTime, timeAgo } from '../lib/format.js';
import { canManageTeam } from '../lib/permissions.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { NotFoundPage } from './not-found-page.js';

const route = getRouteApi('/teams/$team');

export const ROLE_HINTS: Record<TeamRole, string> = {
  owner: 'Owner: manages members and deletes projects',
  member: 'Member: deploys and changes settings',
  viewer: 'Viewer: reads only',
};

/** A team's members and their roles; owners change roles, remove members and invite. */
export function TeamPage() {
  const { team: slug } = route.useParams();
  const me = useQuery(meQuery());
  const team = me.data?.teams.find((t) => t.slug === slug);
  useDocumentTitle(team ? team.name : 'Team');

  if (me.isPending) return <LoadingState label="Loading…" />;
  if (me.isError && !me.data) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;
  // Not one of the caller's teams: the same answer as for a team that does not exist.
  if (!team) return <NotFoundPage />;
  const manage = canManageTeam(me.data, team);
  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>{team.name}</h1>
        {manage && (
          <div className="page-actions">
            <Link to="/teams/$team/audit" params={{ team: team.slug }} className="button">
              Audit log
            </Link>
          </div>
        )}
      </div>
      <p className="muted">
        Team <code>{team.slug}</code> · your role: {team.role}
        {!manage && ' · only owners change members'}
      </p>
      <div className="settings">
        <Members team={team.slug} manage={manage} selfId={me.data?.user?.id} />
        {manage && <Invite team={team.slug} />}
      </div>
    </>
  );
}

function Members({ team, manage, selfId }: { team: string; manage: boolean; selfId: string | undefined }) {
  const client = useQueryClient();
  const members = useQuery(membersQuery(team));
  const [removing, setRemoving] = useState<MemberView | undefined>();
  const refresh = () => {
    void client.invalidateQueries({ queryKey: queryKeys.members(team) });
    // One's own role may have changed.
    void client.invalidateQueries({ queryKey: queryKeys.me });
  };
  const setRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: TeamRole }) =>
      api.setMemberRole(team, userId, role),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (userId: string) => api.removeMember(team, userId),
    onSuccess: () => {
      setRemoving(undefined);
      refresh();
    },
  });

  return (
    <section className="card" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      {members.isPending && <LoadingState label="Loading members…" />}
      {members.isError && !members.data && (
        <ErrorState error={members.error} onRetry={() => void members.refetch()} />
      )}
      {members.data?.length === 0 && (
        <p className="muted">
          No members yet. The admin token owns this team; invite people to give them their own sign-in.
        </p>
      )}
      {members.data && members.data.length > 0 && (
        <div className="table-wrap">
          <table className="history members">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
                {manage && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => (
                <tr key={m.userId}>
                  <td data-label="Name">
                    {m.name}
                    {m.userId === selfId && <span className="muted"> (you)</span>}
                  </td>
                  <td data-label="Email">{m.email}</td>
                  <td data-label="Role">
                    {manage ? (
                      <select
                        aria-label={`Role of ${m.name}`}
                        value={m.role}
                        disabled={setRole.isPending}
                        onChange={(e) =>
                          setRole.mutate({ userId: m.userId, role: e.target.value as TeamRole })
                        }
                      >
                        {TeamRoleSchema.options.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <span className="badge">{m.role}</span>
                    )}
                  </td>
                  <td data-label="Joined">
                    <time dateTime={m.joinedAt} title={absoluteTime(m.joinedAt)}>
                      {timeAgo(m.joinedAt)}
                    </time>
                  </td>
                  {manage && (
                    <td className="row-actions">
                      <button
                        type="button"
                        className="quiet"
                        aria-label={`Remove ${m.name}`}
                        onClick={() => {
                          remove.reset();
                          setRemoving(m);
                        }}
                      >
                        Remove
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {setRole.isError && (
        <p className="form-error" role="alert">
          {errorMessage(setRole.error, 'Could not change the role')}
        </p>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.name}?`}
          confirmLabel="Remove"
          busy={remove.isPending}
          error={remove.isError ? errorMessage(remove.error, 'Could not remove the member') : undefined}
          onConfirm={() => remove.mutate(removing.userId)}
          onCancel={() => setRemoving(undefined)}
        >
          <p>
            {removing.email} loses access to this team&apos;s projects, and their API tokens for this team
            stop working.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function Invite({ team }: { team: string }) {
  const form = useForm<InviteFormValues, unknown, InviteFormOutput>({
    resolver: zodResolver(InviteFormSchema),
    defaultValues: { email: '', role: 'member' },
  });
  const { errors } = form.formState;
  const [created, setCreated] = useState<CreatedInvitation | undefined>();
  const invite = useMutation({
    mutationFn: (body: InviteFormOutput) => api.invite(team, body),
    onSuccess: (inv) => {
      setCreated(inv);
      form.reset();
    },
    onError: (err) => {
      if (err instanceof ApiError && err.field === 'email')
        form.setError('email', { type: 'server', message: err.message });
    },
  });

  return (
    <section className="card" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite someone</h2>
      <p className="field-hint">
        The invitation is a link, shown once here: send it to them yourself (no mail is sent). It works once,
        for a limited time.
      </p>
      <form
        className="env-add"
        noValidate
        aria-label="Invite someone"
        onSubmit={form.handleSubmit((body) => {
          setCreated(undefined);
          invite.mutate(body);
        })}
      >
        <TextField
          id="invite-email"
          label="Email"
          type="email"
          autoComplete="off"
          {...form.register('email')}
          error={errors.email?.message}
        />
        <div className="field">
          <label htmlFor="invite-role">Role</label>
          <select id="invite-role" {...form.register('role')}>
            {TeamRoleSchema.options.map((r) => (
              <option key={r} value={r}>
                {ROLE_HINTS[r]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={invite.isPending}>
          {invite.isPending ? 'Inviting…' : 'Invite'}
        </button>
      </form>
      {invite.isError && !(invite.error instanceof ApiError && invite.error.field === 'email') && (
        <p className="form-error" role="alert">
          {errorMessage(invite.error, 'Could not invite')}
        </p>
      )}
      {created && (
        <SecretOnce label="Invitation link" value={created.acceptUrl} onDone={() => setCreated(undefined)}>
          <p>
            <strong>Copy the link now: it is not shown again.</strong> Send it to {created.email}; it makes
            them a {created.role} and expires{' '}
            <time dateTime={created.expiresAt}>{absoluteTime(created.expiresAt)}</time>.
          </p>
        </SecretOnce>
      )}
    </section>
  );
}
