import type { ProjectView } from '@deploysphere/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { rememberProject } from '../api/cache.js';
import type { SaveResult } from '../components/save-notice.js';
import { errorMessage } from './error-message.js';

/** One change a settings card makes: which item it is about, and what to say once it is saved. */
export interface ProjectChange {
  /** The item being changed (a variable's name, a domain), or `+` for the card's add form. */
  item: string;
  done: string;
}

/**
 * A settings card's saves, as one mutation: one at a time, the project the API answers written
 * into the cache (so the header, the lists and the other cards show it), and what the last save
 * said, for `SaveNotice`.
 */
export function useProjectChange<C extends ProjectChange>(write: (change: C) => Promise<ProjectView>) {
  const client = useQueryClient();
  const mutation = useMutation({
    mutationFn: write,
    onSuccess: (project) => rememberProject(client, project),
  });
  const busy = mutation.isPending ? mutation.variables.item : undefined;
  let result: SaveResult | undefined;
  if (mutation.isSuccess) result = { ok: true, message: mutation.variables.done };
  if (mutation.isError) result = { ok: false, message: errorMessage(mutation.error, 'Could not save') };
  /** Resolves whether the change went through; a failure is in `result`. */
  const save = (change: C): Promise<boolean> =>
    mutation.mutateAsync(change).then(
      () => true,
      () => false,
    );
  return { busy, result, save };
}
