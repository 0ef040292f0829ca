import { describe, expect, it } from 'vitest';
import { ROUTE_RULES } from '../authz/route-rules.js';
import { AUDITED_ROUTES, NOT_AUDITED } from './audit-actions.js';

describe('the audited routes', () => {
  it('cover every route that changes something, or say why not', () => {
    const changes = Object.keys(ROUTE_RULES).filter((k) => !k.startsWith('GET '));
    expect(changes.filter((k) => !AUDITED_ROUTES[k] && !NOT_AUDITED[k])).toEqual([]);
    // …and name only routes that exist.
    const known = new Set(Object.keys(ROUTE_RULES));
    expect(
      [...Object.keys(AUDITED_ROUTES), ...Object.keys(NOT_AUDITED)].filter((k) => !known.has(k)),
    ).toEqual([]);
  });

  it('record names, never the values a body carries', () => {
    const [update, env] = AUDITED_ROUTES['PATCH /api/v1/projects/:slug']!({
      params: { slug: 'site' },
      body: { outputDir: 'dist', env: { TOKEN: 'secret-value', A: null } },
      result: {},
    });
    expect(update).toEqual({
      action: 'project.update',
      target: 'site',
      details: { settings: ['outputDir'] },
    });
    expect(env).toEqual({ action: 'env.update', target: 'site', details: { keys: ['A', 'TOKEN'] } });
    expect(JSON.stringify([update, env])).not.toContain('secret-value');
  });
});
