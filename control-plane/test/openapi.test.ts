import { compileErrors, validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app-harness.js';

// The published OpenAPI document against Fastify's own route list: a route added without its
// schemas, or left out of the document, fails here.

interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { required?: boolean };
  responses: Record<string, unknown>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

/** Routes that take no body although their method could carry one. */
const BODYLESS = new Set([
  'POST /api/v1/deployments/:id/cancel',
  // A deploy hook's URL is the whole request: whatever a body says is ignored (docs/git-deploys.md).
  'POST /hooks/deploy/:secret',
]);

let t: TestApp;
let raw: OpenAPIV3_1.Document;
let doc: Document;
beforeAll(async () => {
  t = await startTestApp();
  const res = await t.app.inject('/api/v1/openapi.json');
  expect(res.statusCode).toBe(200);
  raw = res.json();
  doc = res.json();
});
afterAll(async () => {
  await t?.stop();
});

/** The API's routes: everything but the HEAD twins of GETs and what is hidden on purpose (the dashboard's files). */
function apiRoutes() {
  return t.routes.flatMap((route) => {
    const methods = [route.method].flat().filter((m) => m !== 'HEAD');
    const hidden = route.schema?.hide === true && !('websocket' in route && route.websocket);
    return hidden ? [] : methods.map((method) => ({ method, url: route.url, route }));
  });
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3 document', async () => {
    expect(raw.openapi).toMatch(/^3\./);
    // The parser dereferences in place; it gets a copy.
    const result = await validate(structuredClone(raw));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('is public: tools fetch it without the API token', async () => {
    expect(t.routes.length).toBeGreaterThan(10);
    expect((await t.app.inject('/api/v1/openapi.json')).statusCode).toBe(200);
  });

  it('has every route, with its schemas', () => {
    const routes = apiRoutes();
    expect(routes.map((r) => `${r.method} ${r.url}`)).toContain('GET /api/v1/deployments/:id/logs/stream');
    for (const { method, url, route } of routes) {
      const name = `${method} ${url}`;
      const schema = route.schema ?? {};
      // A redirect is the success of a sign-in step (OIDC start and callback).
      const success = Object.keys(schema.response ?? {}).filter((code) => /^[123]/.test(code));
      expect(success, `${name} declares its success response`).not.toEqual([]);
      const pathParams = [...url.matchAll(/:(\w+)/g)].map((m) => m[1]);
      if (pathParams.length > 0) expect(schema.params, `${name} declares its params`).toBeDefined();
      if (['POST', 'PUT', 'PATCH'].includes(method) && !BODYLESS.has(name)) {
        expect(schema.body, `${name} declares its body`).toBeDefined();
      }

      const operation = doc.paths[openApiPath(url)]?.[method.toLowerCase()];
      expect(operation, `${name} is in the document`).toBeDefined();
      for (const code of success) expect(Object.keys(operation!.responses), name).toContain(code);
      const documented = (operation!.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(documented.sort(), `${name} path parameters`).toEqual(pathParams.sort());
      if (schema.body) expect(operation!.requestBody, `${name} request body`).toBeDefined();
    }
  });

  it('has nothing that is not a route', () => {
    const routes = new Set(apiRoutes().map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) expect(routes).toContain(`${method} ${path}`);
    }
  });

  it('documents the log stream websocket with the messages it sends', () => {
    const stream = doc.paths['/api/v1/deployments/{id}/logs/stream']!.get!;
    expect(Object.keys(stream.responses)).toContain('101');
    const messages = JSON.stringify(stream.responses['101']);
    for (const type of ['log', 'status', 'end', 'error']) expect(messages).toContain(`"${type}"`);
    expect(stream.parameters?.map((p) => `${p.in} ${p.name}`)).toEqual(
      expect.arrayContaining(['path id', 'query after']),
    );
  });

  it('says a redeploy may leave its body out', () => {
    expect(doc.paths['/api/v1/projects/{slug}/deployments']!.post!.requestBody?.required).toBe(false);
  });
});
