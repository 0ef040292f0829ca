import type { TokenView } from '@deploysphere/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { userMe } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const errorOf = (field: HTMLElement) =>
  (field.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id))
    .find((el) => el?.className === 'field-error')?.textContent;

const CI: TokenView = {
  id: 'k'.padEnd(24, '1'),
  name: 'GitHub Actions',
  scopes: ['deploy'],
  team: null,
  project: 'web',
  expiresAt: '2027-03-01T00:00:00.000Z',
  lastUsedAt: null,
  createdAt: '2026-12-01T00:00:00.000Z',
};
const SECRET = `dsp_${'n'.padEnd(24, '2')}_s3cr3tvalue`;

describe('account: API tokens', () => {
  it('lists tokens with scopes, restriction, last use and expiry', async () => {
    fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /projects': () => ok([]),
      'GET /tokens': () =>
        ok([
          CI,
          {
            ...CI,
            id: 'k'.padEnd(24, '3'),
            name: 'laptop',
            team: 'acme',
            project: null,
            expiresAt: null,
            scopes: ['read'],
          },
        ]),
    });
    renderApp('/account');
    const table = await screen.findByRole('table', { name: 'API tokens' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => [...r.querySelectorAll('td')].slice(0, 5).map((td) => td.textContent))).toEqual([
      ['GitHub Actions', 'deploy', 'Project web', 'Never', expect.stringContaining('2027')],
      ['laptop', 'read', 'Team acme', 'Never', 'Never'],
    ]);
    expect(screen.getByText('ada@example.com')).toBeTruthy();
  });

  it('names the field in each validation message, and shows a server error under its field', async () => {
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /projects': () => ok([]),
      'GET /tokens': () => ok([]),
      'POST /tokens': () => ({
        status: 404,
        body: { error: { code: 'not_found', message: 'Team acme not found', field: 'team' } },
      }),
    });
    renderApp('/account');
    await screen.findByText('No tokens yet.');
    fireEvent.click(screen.getByRole('checkbox', { name: /^read/ }));
    fireEvent.change(screen.getByLabelText('Expires in (days)'), { target: { value: '400' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    const name = screen.getByLabelText('Name');
    await waitFor(() => expect(errorOf(name)).toBe('must not be empty'));
    expect(errorOf(screen.getByLabelText('Expires in (days)'))).toBe('must be at most 366');
    const scopes = screen.getByRole('group', { name: 'Scopes' });
    expect(errorOf(scopes)).toBe('must name at least one scope');
    expect(document.activeElement).toBe(name);
    expect(callsTo('POST /tokens')).toHaveLength(0);

    fireEvent.change(name, { target: { value: 'ci' } });
    fireEvent.click(screen.getByRole('checkbox', { name: /^deploy/ }));
    fireEvent.change(screen.getByLabelText('Expires in (days)'), { target: { value: '30' } });
    fireEvent.change(screen.getByLabelText('Restrict to team'), { target: { value: 'acme' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    await waitFor(() =>
      expect(errorOf(screen.getByLabelText('Restrict to team'))).toBe('Team acme not found'),
    );
    expect(callsTo('POST /tokens')[0]!.body).toEqual({
      name: 'ci',
      scopes: ['deploy'],
      team: 'acme',
      expiresInDays: 30,
    });
  });

  it('creates a token and shows its secret once, never in the list', async () => {
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    let tokens: TokenView[] = [];
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /projects': () => ok([]),
      'GET /tokens': () => ok(tokens),
      'POST /tokens': () => {
        const view = { ...CI, name: 'ci', project: null };
        tokens = [view];
        return { status: 201, body: { ...view, token: SECRET } };
      },
    });
    renderApp('/account');
    await screen.findByText('No tokens yet.');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'ci' } });
    fireEvent.change(screen.getByLabelText('Expires in (days)'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    await screen.findByText('Copy the token now: it is not shown again.');
    // Empty expiry means "never", left out of the body; no restriction either.
    expect(callsTo('POST /tokens')[0]!.body).toEqual({ name: 'ci', scopes: ['read'] });
    expect(screen.getByLabelText('Token').textContent).toBe(SECRET);
    fireEvent.click(screen.getByRole('button', { name: 'Copy the token' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(SECRET));
    await screen.findByRole('table', { name: 'API tokens' });
    fireEvent.click(screen.getByRole('button', { name: 'Done, hide it' }));
    expect(document.body.textContent).not.toContain('s3cr3tvalue');
    expect(screen.getByRole('table', { name: 'API tokens' }).textContent).toContain('ci');
  });

  it('revokes a token after confirming', async () => {
    let tokens: TokenView[] = [CI];
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /projects': () => ok([]),
      'GET /tokens': () => ok(tokens),
      [`DELETE /tokens/${CI.id}`]: () => {
        tokens = [];
        return { status: 204 };
      },
    });
    renderApp('/account');
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke GitHub Actions' }));
    const dialog = await screen.findByRole('dialog', { name: 'Revoke GitHub Actions?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(callsTo(`DELETE /tokens/${CI.id}`)).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: 'Revoke GitHub Actions' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Revoke' }));
    await screen.findByText('No tokens yet.');
    expect(callsTo(`DELETE /tokens/${CI.id}`)).toHaveLength(1);
  });

  it('explains to the admin token that tokens belong to users, and asks for none', async () => {
    const { callsTo } = fakeApi({ ...SIGNED_IN, 'GET /projects': () => ok([]) });
    renderApp('/account');
    await screen.findByRole('heading', { name: 'Signed in with the admin token' });
    expect(callsTo('GET /tokens')).toHaveLength(0);
  });
});

describe('account: new team', () => {
  it('checks the slug in the field, creates the team and opens it, selected in the switcher', async () => {
    localStorage.clear();
    let me = userMe();
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(me),
      'GET /projects': () => ok([]),
      'GET /tokens': () => ok([]),
      'GET /teams/docs-team/members': () => ok([]),
      'POST /teams': (call) => {
        const team = { id: 't9', ...(call.body as { slug: string; name: string }), role: 'owner' as const };
        me = { ...me, teams: [...me.teams, team] };
        return { status: 201, body: team };
      },
    });
    renderApp('/account');
    const slug = await screen.findByLabelText('Team slug');
    fireEvent.change(screen.getByLabelText('Team name'), { target: { value: 'Docs' } });
    fireEvent.change(slug, { target: { value: 'Docs Team' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create team' }));
    await waitFor(() => expect(errorOf(slug)).toBe('may contain only lowercase letters, digits and hyphens'));
    expect(callsTo('POST /teams')).toHaveLength(0);

    fireEvent.change(slug, { target: { value: 'docs-team' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create team' }));
    await screen.findByRole('heading', { level: 1, name: 'Docs' });
    expect(location.pathname).toBe('/teams/docs-team');
    expect(callsTo('POST /teams')[0]!.body).toEqual({ name: 'Docs', slug: 'docs-team' });
    expect(localStorage.getItem('deploysphere.team')).toBe('docs-team');
    expect((screen.getByRole('combobox', { name: 'Team' }) as HTMLSelectElement).value).toBe('docs-team');
  });
});
