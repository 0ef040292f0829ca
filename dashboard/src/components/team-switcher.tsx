import { useLocation, useNavigate } from '@tanstack/react-router';
import { useSelectedTeam } from '../lib/selected-team.js';

/**
 * The header's team choice, remembered in localStorage. On a team's page, switching opens the
 * other team's page. Projects are listed for every team (the projects API has no team filter).
 */
export function TeamSwitcher() {
  const { teams, team, select } = useSelectedTeam();
  const pathname = useLocation({ select: (l) => l.pathname });
  const navigate = useNavigate();
  if (!team) return null;
  return (
    <label className="team-switcher">
      <span className="visually-hidden">Team</span>
      <select
        value={team.slug}
        onChange={(e) => {
          select(e.target.value);
          if (pathname.startsWith('/teams/'))
            void navigate({ to: '/teams/$team', params: { team: e.target.value } });
        }}
      >
        {teams.map((t) => (
          <option key={t.id} value={t.slug}>
            {t.name}
          </option>
        ))}
      </select>
    </label>
  );
}
