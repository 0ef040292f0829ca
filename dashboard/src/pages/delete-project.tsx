import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useMemo } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { z } from 'zod';
import { forgetProject } from '../api/cache.js';
import { api } from '../api/endpoints.js';
import { errorMessage } from '../lib/error-message.js';

/** Deleting takes every deployment and the site's URLs with it, so the slug must be typed out. */
export function DeleteProject({ slug }: { slug: string }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const schema = useMemo(() => z.object({ confirm: z.literal(slug, `type ${slug} to confirm`) }), [slug]);
  const form = useForm<{ confirm: string }>({
    resolver: zodResolver(schema),
    defaultValues: { confirm: '' },
  });
  const typed = useWatch({ control: form.control, name: 'confirm' });
  const remove = useMutation({
    mutationFn: () => api.deleteProject(slug),
    onSuccess: async () => {
      // Leave first: dropping the project's queries while its page is mounted would refetch it (a 404).
      await navigate({ to: '/', replace: true });
      forgetProject(client, slug);
    },
  });
  const busy = remove.isPending || remove.isSuccess;

  return (
    <section className="card danger-zone" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete project</h2>
      <p>
        This takes <strong>{slug}</strong> offline at once and removes its deployments. It cannot be undone.
      </p>
      <form onSubmit={form.handleSubmit(() => remove.mutate())} className="stack" noValidate>
        <div className="field">
          <label htmlFor="delete-confirm">
            Type <code>{slug}</code> to confirm
          </label>
          <input
            id="delete-confirm"
            {...form.register('confirm')}
            autoComplete="off"
            spellCheck={false}
            autoCapitalize="off"
          />
        </div>
        {remove.isError && (
          <p className="form-error" role="alert">
            {errorMessage(remove.error, 'Could not delete')}
          </p>
        )}
        <button type="submit" className="danger" disabled={typed !== slug || busy}>
          {busy ? 'Deleting…' : `Delete ${slug}`}
        </button>
      </form>
    </section>
  );
}
