import { AddDomainBodySchema, type AddDomainBody, type ProjectView } from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { api } from '../api/endpoints.js';
import { SaveNotice } from '../components/save-notice.js';
import { TextField } from '../components/text-field.js';
import { useProjectChange, type ProjectChange } from '../lib/use-project-change.js';

/** Custom domains serve the production deployment; each add or remove is one API call. */
export function DomainsEditor({ project }: { project: ProjectView }) {
  // The contract's body schema as is: it also trims and lowercases what was typed.
  const form = useForm<z.input<typeof AddDomainBodySchema>, unknown, AddDomainBody>({
    resolver: zodResolver(AddDomainBodySchema),
    mode: 'onChange',
    defaultValues: { hostname: '' },
  });
  const { busy, result, save } = useProjectChange(
    async (change: ProjectChange & ({ add: AddDomainBody } | { remove: string })) => {
      if ('add' in change) return api.addDomain(project.slug, change.add);
      await api.removeDomain(project.slug, change.remove);
      return api.project(project.slug);
    },
  );

  const add = form.handleSubmit(async (body) => {
    if (await save({ item: '+', add: body, done: `${body.hostname} added.` })) form.reset();
  });

  return (
    <section className="card" aria-labelledby="domains-heading">
      <h2 id="domains-heading">Custom domains</h2>
      <p className="field-hint">
        A domain serves the production deployment once its DNS points at the edge. Promotions and new
        deployments move it along with the production URL.
      </p>
      {project.domains.length === 0 ? (
        <p className="muted">No custom domains yet.</p>
      ) : (
        <ul className="env-list" aria-label="Domains">
          {project.domains.map((name) => (
            <li key={name}>
              <code>{name}</code>
              <button
                type="button"
                className="quiet"
                disabled={busy !== undefined}
                onClick={() => void save({ item: name, remove: name, done: `${name} removed.` })}
                aria-label={`Remove ${name}`}
              >
                {busy === name ? 'Removing…' : 'Remove'}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="env-add" onSubmit={add} noValidate aria-label="Add a domain">
        <TextField
          id="domain-hostname"
          label="Domain"
          placeholder="www.example.com"
          {...form.register('hostname')}
          error={form.formState.errors.hostname?.message}
          autoComplete="off"
        />
        <button type="submit" disabled={busy !== undefined}>
          {busy === '+' ? 'Adding…' : 'Add domain'}
        </button>
      </form>
      <SaveNotice result={result} />
    </section>
  );
}
