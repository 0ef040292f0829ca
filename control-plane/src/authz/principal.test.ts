import { describe, expect, it } from 'vitest';
import { access, rootPrincipal, scopeCap, visibility, type Principal } from './principal.js';

function user(
  roles: Record<string, 'owner' | 'member' | 'viewer'>,
  extra: Partial<Principal> = {},
): Principal {
  return {
    kind: 'user',
    userId: 'u',
    tokenId: null,
    roles: new Map(Object.entries(roles)),
    scopeCap: 'admin',
    scopes: ['read', 'deploy', 'admin'],
    teamId: null,
    projectId: null,
    ...extra,
  };
}

describe('access', () => {
  it('follows the role: viewers read, members deploy, owners administer', () => {
    expect(access(user({ t: 'viewer' }), 'read', 't')).toBe('allowed');
    expect(access(user({ t: 'viewer' }), 'deploy', 't')).toBe('forbidden');
    expect(access(user({ t: 'member' }), 'deploy', 't')).toBe('allowed');
    expect(access(user({ t: 'member' }), 'admin', 't')).toBe('forbidden');
    expect(access(user({ t: 'owner' }), 'admin', 't')).toBe('allowed');
  });

  it('hides other teams entirely', () => {
    expect(access(user({ a: 'owner' }), 'read', 'b')).toBe('hidden');
    expect(access(rootPrincipal(), 'read', 'b')).toBe('hidden');
    expect(access(rootPrincipal(), 'admin', 'default')).toBe('allowed');
  });

  it("caps a token by its scopes and by its owner's role", () => {
    const readToken = user({ t: 'owner' }, { kind: 'token', scopeCap: scopeCap(['read']) });
    expect(access(readToken, 'read', 't')).toBe('allowed');
    expect(access(readToken, 'deploy', 't')).toBe('forbidden');
    const adminTokenOfViewer = user({ t: 'viewer' }, { kind: 'token', scopeCap: 'admin' });
    expect(access(adminTokenOfViewer, 'deploy', 't')).toBe('forbidden');
  });

  it('hides everything outside a restricted token’s team or project', () => {
    const teamToken = user({ a: 'owner', b: 'owner' }, { kind: 'token', teamId: 'a' });
    expect(access(teamToken, 'read', 'a')).toBe('allowed');
    expect(access(teamToken, 'read', 'b')).toBe('hidden');
    expect(visibility(teamToken)).toEqual({ teamIds: ['a'], projectId: null });
    const projectToken = user({ a: 'owner' }, { kind: 'token', projectId: 'p1' });
    expect(access(projectToken, 'read', 'a', 'p1')).toBe('allowed');
    expect(access(projectToken, 'read', 'a', 'p2')).toBe('hidden');
    expect(access(projectToken, 'read', 'a')).toBe('hidden');
  });

  it('takes the highest scope', () => {
    expect(scopeCap(['read', 'deploy'])).toBe('deploy');
    expect(scopeCap(['admin', 'read'])).toBe('admin');
  });
});
