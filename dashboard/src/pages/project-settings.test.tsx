import type { ProjectView } from '@deploysphere/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN, type ApiCall } from '../test/fake-api.js';
import { deploymentId, deploymentView, projectView, REGIONS } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** A project the fake API keeps, changed by PATCH and the domain routes as the real one would. */
function api(
  patch?: (call: ApiCall) => { status: number; body: unknown } | undefined,
  initial: Partial<ProjectView> = {},
  more: Parameters<typeof fakeApi>[0] = {},
) {
  let project: ProjectView = projectView({ outputDir: 'dist', ...initial });
  return fakeApi({
    ...SIGNED_IN,
    ...more,
    'GET /regions': () => ok(REGIONS),
    'GET /projects/web': () => ok(project),
    'PATCH /projects/web': (call) => {
      const failure = patch?.(call);
      if (failure) return failure;
      const { env, ...rest } = call.body as Partial<ProjectView> & { env?: Record<string, string | null> };
      const envKeys = Object.entries(env ?? {}).reduce(
        (keys, [k, v]) => (v === null ? keys.filter((x) => x !== k) : [...new Set([...keys, k])]),
        project.envKeys,
      );
      project = { ...project, ...rest, envKeys };
      return ok(project);
    },
    'POST /projects/web/domains': (call) => {
      project = { ...project, domains: [...project.domains, (call.body as { hostname: string }).hostname] };
      return { status: 201, body: project };
    },
  });
}

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });

describe('project settings', () => {
  it("saves the build settings as the contract's body: an empty output directory resets it", async () => {
    const { callsTo } = api();
    renderApp('/projects/web/settings');
    await screen.findByRole('checkbox', { name: /us-east-1/ });
    type('Output directory (optional)', '');
    fireEvent.click(screen.getByRole('checkbox', { name: /us-east-1/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await screen.findByText('Saved. The next deployment uses these settings.');
    expect(callsTo('PATCH /projects/web')[0]!.body).toEqual({
      installCommand: 'npm install',
      buildCommand: 'npm run build',
      outputDir: null,
      regions: ['eu-west-1', 'us-east-1'],
      buildCacheEnabled: true,
    });
    // The project's header shows what was saved, from the same cache entry.
    const summary = screen.getByRole('region', { name: 'Project' });
    expect(within(summary).getByText('us-east-1')).toBeTruthy();
  });

  it("shows the contract's message while typing, and the server's under its field", async () => {
    api(() => ({
      status: 400,
      body: { error: { code: 'invalid', message: 'that region is being retired', field: 'regions.1' } },
    }));
    renderApp('/projects/web/settings');
    await screen.findByRole('checkbox', { name: /us-east-1/ });
    type('Install command', 'x'.repeat(1025));
    expect(await screen.findByText('must be at most 1024 bytes')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Save settings' })).toHaveProperty('disabled', true);
    type('Install command', 'npm ci');
    fireEvent.click(screen.getByRole('checkbox', { name: /us-east-1/ }));
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Save settings' })).toHaveProperty('disabled', false),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    const underRegions = await screen.findByText('that region is being retired', {
      selector: '#regions-error',
    });
    expect(underRegions).toBeTruthy();
  });

  it('leaves a command to the detected preset (named from the last build), overrides one, skips one, and turns the cache off', async () => {
    const latest = deploymentView({
      id: deploymentId(5),
      preset: {
        id: 'vite',
        name: 'Vite',
        reason: 'vite: dependency vite, vite.config.js',
        packageManager: 'npm',
        installCommand: 'npm ci',
        buildCommand: 'npm run build',
        installFrom: 'preset',
        buildFrom: 'preset',
        outputDir: 'dist',
      },
    });
    const { callsTo } = api(
      undefined,
      {
        installCommand: null,
        buildCommand: null,
        latestDeployment: { id: latest.id, status: 'ready', createdAt: latest.createdAt },
      },
      { [`GET /deployments/${latest.id}`]: () => ok(latest) },
    );
    renderApp('/projects/web/settings');
    await screen.findByRole('checkbox', { name: /us-east-1/ });
    const install = screen.getByLabelText<HTMLInputElement>('Install command', { exact: true });
    const build = screen.getByLabelText<HTMLInputElement>('Build command', { exact: true });
    // Unset: disabled, and the page says which command runs instead.
    await waitFor(() => expect(install.placeholder).toBe('detected: npm ci'));
    expect(install.disabled).toBe(true);
    expect(build.placeholder).toBe('detected: npm run build');
    expect(screen.getByText('Not set: npm ci runs.')).toBeTruthy();

    // Override the build command; override the install command with nothing: skip it.
    fireEvent.click(screen.getByRole('checkbox', { name: 'Override the detected build command' }));
    await waitFor(() => expect(build.disabled).toBe(false));
    type('Build command', 'npm run build:static');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Override the detected install command' }));
    await waitFor(() => expect(install.disabled).toBe(false));
    expect(install.placeholder).toBe('empty: skip this step');
    expect(screen.getAllByText('Empty: this step is skipped.')).toHaveLength(2);
    const cache = screen.getByRole<HTMLInputElement>('checkbox', { name: 'Build cache' });
    expect(cache.checked).toBe(true);
    fireEvent.click(cache);
    fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await screen.findByText('Saved. The next deployment uses these settings.');
    expect(callsTo('PATCH /projects/web')[0]!.body).toEqual({
      installCommand: '',
      buildCommand: 'npm run build:static',
      outputDir: 'dist',
      regions: ['eu-west-1'],
      buildCacheEnabled: false,
    });

    // Back to the detected command: the switch off sends null, whatever the field held.
    fireEvent.click(screen.getByRole('checkbox', { name: 'Override the detected build command' }));
    await waitFor(() => expect(build.disabled).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(callsTo('PATCH /projects/web')).toHaveLength(2));
    expect(callsTo('PATCH /projects/web')[1]!.body).toMatchObject({ installCommand: '', buildCommand: null });
  });

  it('adds an env var by name only: its value leaves the page once saved', async () => {
    const { callsTo } = api();
    renderApp('/projects/web/settings');
    await screen.findByRole('heading', { name: 'Environment variables' });
    type('Name', 'API_SECRET');
    type('Value', 's3cr3t-value');
    fireEvent.click(screen.getByRole('button', { name: 'Add variable' }));
    await screen.findByText('API_SECRET added.');
    expect(within(screen.getByRole('list', { name: 'Variables' })).getByText('API_SECRET')).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>('Value').value).toBe('');
    expect(document.body.innerHTML).not.toContain('s3cr3t-value');
    expect(callsTo('PATCH /projects/web')[0]!.body).toEqual({ env: { API_SECRET: 's3cr3t-value' } });
  });

  it("adds a custom domain as the contract's schema writes it: trimmed and lowercase", async () => {
    const { callsTo } = api();
    renderApp('/projects/web/settings');
    await screen.findByRole('heading', { name: 'Custom domains' });
    type('Domain', 'not a domain');
    expect(await screen.findByText('expected a domain name like www.example.com')).toBeTruthy();
    type('Domain', ' WWW.Example.test ');
    fireEvent.click(screen.getByRole('button', { name: 'Add domain' }));
    await screen.findByText('www.example.test added.');
    expect(callsTo('POST /projects/web/domains')[0]!.body).toEqual({ hostname: 'www.example.test' });
  });
});
