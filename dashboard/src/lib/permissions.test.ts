import type { MeView } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { userMe } from '../test/fixtures.js';
import { canManageTeam, permissionsOf } from './permissions.js';

const team = (role: 'owner' | 'member' | 'viewer') => ({ id: 't', slug: 't', name: 'T', role });
const me = (
  roles: ('owner' | 'member' | 'viewer')[],
  scopes: MeView['scopes'] = ['read', 'deploy', 'admin'],
) => userMe({ teams: roles.map((r, i) => ({ ...team(r), id: `t${i}`, slug: `t${i}` })), scopes });

describe('permissions', () => {
  it.each([
    [['viewer'], false],
    [['viewer', 'viewer'], false],
    [['member'], true],
    [['owner'], true],
    [['viewer', 'member'], true],
    [[], false],
  ] as const)('roles %j: deploy %s', (roles, deploy) => {
    expect(permissionsOf(me([...roles])).deploy).toBe(deploy);
  });

  it('caps a role by the scopes: a read token deploys nowhere', () => {
    expect(permissionsOf(me(['owner'], ['read'])).deploy).toBe(false);
    expect(permissionsOf(me(['owner'], ['deploy'])).deploy).toBe(true);
  });

  it('offers everything while /me is unknown (the API still decides)', () => {
    expect(permissionsOf(undefined).deploy).toBe(true);
  });

  it('lets only owners with the admin scope manage a team', () => {
    expect(canManageTeam(me(['owner']), team('owner'))).toBe(true);
    expect(canManageTeam(me(['member']), team('member'))).toBe(false);
    expect(canManageTeam(me(['owner'], ['read', 'deploy']), team('owner'))).toBe(false);
  });
});
