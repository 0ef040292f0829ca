import type { ProjectView, ProtectionSettings } from '@deploysphere/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN, type ApiCall } from '../test/fake-api.js';
import { projectView, REGIONS } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const errorOf = (field: Element) =>
  (field.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id))
    .find((el) => el?.className === 'field-error')?.textContent;

/**
 * A project whose protection the fake API keeps as the control plane would: the password is
 * write-only (the view says only whether one is set).
 */
function api(
  protection: ProtectionSettings | undefined,
  refuse?: (call: ApiCall) => { status: number; body: unknown } | undefined,
) {
  let project: ProjectView = projectView(protection ? { protection } : {});
  return fakeApi({
    ...SIGNED_IN,
    'GET /regions': () => ok(REGIONS),
    'GET /projects/web': () => ok(project),
    'PATCH /projects/web': (call) => {
      const refusal = refuse?.(call);
      if (refusal) return refusal;
      const input = (
        call.body as {
          protection: { mode: ProtectionSettings['mode']; production?: boolean; password?: string };
        }
      ).protection;
      const now = project.protection ?? { mode: 'none', production: false, passwordSet: false };
      project = {
        ...project,
        protection: {
          mode: input.mode,
          production: input.production ?? now.production,
          passwordSet: now.passwordSet || input.password !== undefined,
        },
      };
      return ok(project);
    },
  });
}

const card = async () => screen.findByRole('form', { name: 'Protection' });

describe('protection settings', () => {
  it('asks for a password before turning password mode on, checks its length, and never shows it again', async () => {
    const { callsTo } = api(undefined);
    renderApp('/projects/web/settings');
    const form = within(await card());
    // An older control plane's view has no protection: public.
    expect((form.getByRole('radio', { name: /^Public/ }) as HTMLInputElement).checked).toBe(true);
    expect(form.queryByLabelText('Protect production too')).toBeNull();

    fireEvent.click(form.getByRole('radio', { name: /^Password/ }));
    fireEvent.click(form.getByRole('button', { name: 'Save protection' }));
    const password = form.getByLabelText('Password');
    await waitFor(() => expect(errorOf(password)).toBe('required to turn on password protection'));
    expect(document.activeElement).toBe(password);
    fireEvent.change(password, { target: { value: 'short' } });
    await waitFor(() => expect(errorOf(password)).toBe('at least 8 characters'));
    expect(callsTo('PATCH /projects/web')).toHaveLength(0);

    fireEvent.change(password, { target: { value: 'open sesame' } });
    fireEvent.click(form.getByLabelText('Protect production too'));
    fireEvent.click(form.getByRole('button', { name: 'Save protection' }));
    await form.findByText('Saved. Visitors who were let in before sign in again.');
    expect(callsTo('PATCH /projects/web')[0]!.body).toEqual({
      protection: { mode: 'password', production: true, password: 'open sesame' },
    });
    // Write-only: the field is empty again and says a password is set.
    const next = form.getByLabelText('New password (optional)') as HTMLInputElement;
    expect(next.value).toBe('');
    expect(form.getByText('A password is set. Leave this empty to keep it.')).toBeTruthy();
    expect(document.body.textContent).not.toContain('open sesame');
  });

  it('keeps the password that is set when only the mode or production change', async () => {
    const { callsTo } = api({ mode: 'password', production: false, passwordSet: true });
    renderApp('/projects/web/settings');
    const form = within(await card());
    expect((form.getByLabelText('New password (optional)') as HTMLInputElement).value).toBe('');
    const save = form.getByRole('button', { name: 'Save protection' });
    // Nothing changed, nothing to save: every save signs visitors out.
    expect(save).toHaveProperty('disabled', true);
    fireEvent.click(form.getByLabelText('Protect production too'));
    fireEvent.click(save);
    await form.findByText('Saved. Visitors who were let in before sign in again.');
    expect(callsTo('PATCH /projects/web')[0]!.body).toEqual({
      protection: { mode: 'password', production: true },
    });

    fireEvent.click(form.getByRole('radio', { name: /^Team members/ }));
    expect(form.queryByLabelText('New password (optional)')).toBeNull();
    fireEvent.click(form.getByRole('button', { name: 'Save protection' }));
    await waitFor(() => expect(callsTo('PATCH /projects/web')).toHaveLength(2));
    expect(callsTo('PATCH /projects/web')[1]!.body).toEqual({
      protection: { mode: 'team', production: true },
    });

    // Off: production is left as it was, for the next time it is turned on.
    await waitFor(() =>
      expect(form.getByRole('button', { name: 'Save protection' })).toHaveProperty('disabled', true),
    );
    fireEvent.click(form.getByRole('radio', { name: /^Public/ }));
    fireEvent.click(form.getByRole('button', { name: 'Save protection' }));
    await waitFor(() => expect(callsTo('PATCH /projects/web')).toHaveLength(3));
    expect(callsTo('PATCH /projects/web')[2]!.body).toEqual({ protection: { mode: 'none' } });
  });

  it("shows the API's refusal under the field it names, and others above the button", async () => {
    let answer: { status: number; body: unknown } | undefined = {
      status: 400,
      body: {
        error: {
          code: 'bad_request',
          message:
            'protection.mode: this platform has no PROTECTION_SIGNING_KEY, so its edge cannot check protected hosts',
          field: 'protection.mode',
        },
      },
    };
    api({ mode: 'none', production: false, passwordSet: false }, () => answer);
    renderApp('/projects/web/settings');
    const form = within(await card());
    fireEvent.click(form.getByRole('radio', { name: /^Team members/ }));
    fireEvent.click(form.getByRole('button', { name: 'Save protection' }));
    const modes = form.getByRole('group', { name: 'Who may open preview URLs' });
    await waitFor(() =>
      expect(errorOf(modes)).toBe(
        'this platform has no PROTECTION_SIGNING_KEY, so its edge cannot check protected hosts',
      ),
    );
    expect(form.queryByRole('alert')).toBeNull();

    answer = {
      status: 403,
      body: { error: { code: 'forbidden', message: 'Your role in this team cannot change settings' } },
    };
    fireEvent.click(form.getByRole('button', { name: 'Save protection' }));
    expect((await form.findByRole('alert')).textContent).toBe(
      'Your role in this team cannot change settings',
    );
  });
});
