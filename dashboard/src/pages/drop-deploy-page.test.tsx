import { createHash } from 'node:crypto';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { deploymentId, deploymentView, projectView, REGIONS, userMe } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

// The "Deploy a folder" page against a fake API and fake buckets: what it sends (the manifest,
// only the missing blobs with exactly the grants' headers, finalize), and what it shows.

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const STORAGE = 'http://bucket.test';

// jsdom's Blob has no arrayBuffer() or text() (browsers' do): read them with jsdom's FileReader,
// the bytes through a data: URL, so Node's Web Crypto gets an ArrayBuffer of its own realm.
const read = (blob: Blob, as: 'readAsDataURL' | 'readAsText') =>
  new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error as Error);
    reader[as](blob);
  });
const had = { arrayBuffer: Blob.prototype.arrayBuffer, text: Blob.prototype.text };
beforeAll(() => {
  Blob.prototype.arrayBuffer = async function (this: Blob) {
    const url = await read(this, 'readAsDataURL');
    return Uint8Array.from(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).buffer;
  };
  Blob.prototype.text = function (this: Blob) {
    return read(this, 'readAsText');
  };
});
afterAll(() => Object.assign(Blob.prototype, had));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** A file as a directory input gives it: `webkitRelativePath` starts with the folder's name. */
function fileIn(path: string, body: string): File {
  const file = new File([body], path.split('/').pop()!);
  Object.defineProperty(file, 'webkitRelativePath', { value: path });
  return file;
}

const FOLDER = {
  'My_Site/index.html': '<h1>home</h1>',
  'My_Site/about/index.html': '<h1>about</h1>',
  'My_Site/.deploysphere/project.json': '{}',
  'My_Site/_redirects': '/old /about/ 301\n',
};

function chooseFolder(files: Record<string, string>) {
  const input = document.querySelector<HTMLInputElement>('input[type=file]')!;
  expect(input.webkitdirectory).toBe(true);
  fireEvent.change(input, { target: { files: Object.entries(files).map(([p, b]) => fileIn(p, b)) } });
}

/** The fake API, plus fake buckets: every PUT outside `/api/v1` is recorded and stored. */
function api(routes: Parameters<typeof fakeApi>[0] = {}) {
  const fake = fakeApi({
    ...SIGNED_IN,
    'GET /regions': () => ok(REGIONS),
    'GET /projects': () => ok([projectView({ slug: 'web' })]),
    ...routes,
  });
  const apiFetch = globalThis.fetch;
  const puts: { url: string; headers: Record<string, string>; body: string }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      if (!input.startsWith(STORAGE)) return apiFetch(input, init);
      puts.push({
        url: input,
        headers: init!.headers as Record<string, string>,
        body: await (init!.body as Blob).text(),
      });
      return new Response(null, { status: 200 });
    }),
  );
  return { ...fake, puts };
}

const grant = (hash: string) => ({
  hash,
  put: {
    method: 'PUT',
    url: `${STORAGE}/blobs/${hash}?X-Amz-Signature=abc`,
    headers: {
      'cache-control': 'public, max-age=31536000, immutable',
      'content-type': 'text/html; charset=utf-8',
      'if-none-match': '*',
      'x-amz-checksum-sha256': Buffer.from(hash, 'hex').toString('base64'),
    },
  },
});

describe('Deploy a folder', () => {
  it('is linked from the projects list, and a viewer gets a note instead', async () => {
    api();
    renderApp('/');
    fireEvent.click(await screen.findByRole('link', { name: 'Deploy a folder' }));
    await screen.findByRole('heading', { level: 1, name: 'Deploy a folder' });
    cleanup();

    api({
      'GET /me': () => ok(userMe({ teams: [{ id: 't2', slug: 'blue', name: 'Blue', role: 'viewer' }] })),
    });
    renderApp('/drop');
    await screen.findByText('Your role is viewer in each of your teams: members and owners deploy.');
    expect(screen.queryByRole('link', { name: 'Deploy a folder' })).toBeNull();
  });

  it('sends the manifest, PUTs only the missing blob with the grant headers, finalizes and shows the URL', async () => {
    const home = sha(FOLDER['My_Site/index.html']);
    const about = sha(FOLDER['My_Site/about/index.html']);
    const ready = deploymentView({ id: deploymentId(7), projectSlug: 'my-site', status: 'ready' });
    const { callsTo, puts } = api({
      'POST /cli-deploys': () => ({
        status: 201,
        body: {
          deployment: deploymentView({ id: deploymentId(7), projectSlug: 'my-site', status: 'building' }),
          projectCreated: true,
          expiresAt: '2026-12-03T09:00:00.000Z',
          blobs: 2,
          // us-east-1 has the home page already; eu-west-1 has everything.
          regions: [
            { region: 'us-east-1', present: 1, missing: [grant(about)] },
            { region: 'eu-west-1', present: 2, missing: [] },
          ],
        },
      }),
      [`POST /cli-deploys/${deploymentId(7)}/finalize`]: () => ok(ready),
      [`GET /deployments/${deploymentId(7)}`]: () => ok(ready),
    });
    renderApp('/drop');
    await screen.findByLabelText('Project');
    chooseFolder(FOLDER);
    // .deploysphere/ is the CLI's link, _redirects a rule: two files.
    await screen.findByText(/: 2 files, .*_redirects/);
    // The folder's name, as a slug.
    expect(screen.getByLabelText<HTMLInputElement>('Project').value).toBe('my-site');
    await screen.findByText('Creates the project my-site');
    // A new project: its regions, the picker's choice.
    fireEvent.click(await screen.findByRole('checkbox', { name: /eu-west-1/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));

    const done = await screen.findByRole('status', { name: 'Deployed' });
    expect(done.textContent).toContain(ready.url);
    expect(done.textContent).toContain('Uploaded 1 file to us-east-1, 0 files to eu-west-1.');
    const [create] = callsTo('POST /cli-deploys');
    expect(create!.body).toEqual({
      slug: 'my-site',
      target: 'preview',
      regions: ['eu-west-1'],
      files: {
        'index.html': { hash: home, size: 13, contentType: 'text/html; charset=utf-8' },
        'about/index.html': { hash: about, size: 14, contentType: 'text/html; charset=utf-8' },
      },
      redirects: [{ from: '/old', to: '/about/', status: 301, force: false }],
      headers: [],
    });
    expect(puts).toEqual([
      {
        url: grant(about).put.url,
        headers: grant(about).put.headers,
        body: FOLDER['My_Site/about/index.html'],
      },
    ]);
    expect(callsTo(`POST /cli-deploys/${deploymentId(7)}/finalize`)).toHaveLength(1);
    await waitFor(() =>
      expect(done.querySelector('a[href$="/deployments/' + deploymentId(7) + '"]')).toBeTruthy(),
    );
  });

  it("shows the API's refusal with the field it names", async () => {
    api({
      'POST /cli-deploys': () => ({
        status: 400,
        body: {
          error: {
            code: 'invalid_request',
            message: 'expected a sha256 hex digest',
            field: 'files.index.html.hash',
          },
        },
      }),
    });
    renderApp('/drop');
    await screen.findByLabelText('Project');
    chooseFolder({ 'web/index.html': 'x' });
    await screen.findByText('web exists: this adds a deployment to it');
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('files.index.html.hash: expected a sha256 hex digest');
  });
});
