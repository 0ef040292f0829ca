import type { TeamView } from '@deploysphere/contracts';
import { useQuery } from '@tanstack/react-query';
import { useCallback, useSyncExternalStore } from 'react';
import { meQuery } from '../api/queries.js';

/** The team switcher's choice, by slug. Not a secret: only which of your teams you looked at last. */
export const SELECTED_TEAM_KEY = 'deploysphere.team';
const CHANGED = 'deploysphere:team-changed';

function read(): string | null {
  try {
    return localStorage.getItem(SELECTED_TEAM_KEY);
  } catch {
    // Storage can be blocked (private modes, policies): the first team is then the choice.
    return null;
  }
}

function subscribe(onChange: () => void): () => void {
  // `storage` fires for other tabs; CHANGED for this one.
  window.addEventListener('storage', onChange);
  window.addEventListener(CHANGED, onChange);
  return () => {
    window.removeEventListener('storage', onChange);
    window.removeEventListener(CHANGED, onChange);
  };
}

export function rememberTeam(slug: string): void {
  try {
    localStorage.setItem(SELECTED_TEAM_KEY, slug);
  } catch {
    // Not remembered across reloads; the switch itself still works for this page.
  }
  window.dispatchEvent(new Event(CHANGED));
}

/** The remembered team if it is still one of `teams`, otherwise the first (the oldest). */
export function pickTeam(teams: readonly TeamView[], remembered: string | null): TeamView | undefined {
  return teams.find((t) => t.slug === remembered) ?? teams[0];
}

/** The selected team (undefined until `/me` answers, or when the caller has none) and its setter. */
export function useSelectedTeam(): {
  teams: readonly TeamView[];
  team: TeamView | undefined;
  select: (slug: string) => void;
} {
  const me = useQuery(meQuery());
  const remembered = useSyncExternalStore(subscribe, read, () => null);
  const teams = me.data?.teams ?? [];
  const select = useCallback((slug: string) => rememberTeam(slug), []);
  return { teams, team: pickTeam(teams, remembered), select };
}
