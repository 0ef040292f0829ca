import { CreateTeamBodySchema, type CreateTeamBody } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useForm } from 'react-hook-form';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { queryKeys } from '../api/query-keys.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { focusFirstInvalid } from '../lib/focus-first-invalid.js';
import { rememberTeam } from '../lib/selected-team.js';

/** `POST /teams`: the signed-in user becomes its owner; the switcher then selects it. */
export function CreateTeam() {
  const client = useQueryClient();
  const navigate = useNavigate();
  const form = useForm<CreateTeamBody>({
    resolver: zodResolver(CreateTeamBodySchema),
    defaultValues: { name: '', slug: '' },
  });
  const { errors } = form.formState;
  const create = useMutation({
    mutationFn: api.createTeam,
    onSuccess: async (team) => {
      rememberTeam(team.slug);
      await client.invalidateQueries({ queryKey: queryKeys.me });
      void navigate({ to: '/teams/$team', params: { team: team.slug } });
    },
    onError: (err) => {
      if (err instanceof ApiError && (err.field === 'slug' || err.field === 'name'))
        form.setError(err.field, { type: 'server', message: err.message });
    },
  });
  const fieldError = create.error instanceof ApiError && create.error.field !== undefined;

  return (
    <section className="card" aria-labelledby="new-team-heading">
      <h2 id="new-team-heading">New team</h2>
      <p className="field-hint">You become its owner; invite others from its page.</p>
      <form
        className="env-add"
        noValidate
        aria-labelledby="new-team-heading"
        onSubmit={form.handleSubmit(
          (body) => create.mutate(body),
          focusFirstInvalid(form.setFocus, ['name', 'slug']),
        )}
      >
        <TextField
          id="team-name"
          label="Team name"
          autoComplete="off"
          {...form.register('name')}
          error={errors.name?.message}
        />
        <TextField
          id="team-slug"
          label="Team slug"
          autoComplete="off"
          className="mono"
          {...form.register('slug')}
          error={errors.slug?.message}
        />
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create team'}
        </button>
      </form>
      {create.isError && !fieldError && (
        <p className="form-error" role="alert">
          {errorMessage(create.error, 'Could not create the team')}
        </p>
      )}
    </section>
  );
}
