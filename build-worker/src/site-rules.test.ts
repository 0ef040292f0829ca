import { describe, expect, it } from 'vitest';
import { parseHeaders, parseRedirects } from './site-rules.js';

describe('parseRedirects', () => {
  it('parses rules, statuses, force and comments, and reports bad lines', () => {
    const problems: string[] = [];
    const rules = parseRedirects(
      [
        '# comment',
        '/old /new',
        '/blog/* /posts/:splat 302',
        '/spa/*   /index.html   200',
        '/force /elsewhere 301!',
        '/ext https://example.com/x 308',
        '',
        '/gone /x 404',
        'relative /x',
        '/a',
        '/cond /x 302 Country=us',
        '/x ftp://nope',
      ].join('\n'),
      (m) => problems.push(m),
    );
    expect(rules).toEqual([
      { from: '/old', to: '/new', status: 301, force: false },
      { from: '/blog/*', to: '/posts/:splat', status: 302, force: false },
      { from: '/spa/*', to: '/index.html', status: 200, force: false },
      { from: '/force', to: '/elsewhere', status: 301, force: true },
      { from: '/ext', to: 'https://example.com/x', status: 308, force: false },
    ]);
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/_redirects line 8: unsupported status "404"/);
    expect(problems[1]).toMatch(/line 9/);
  });
});

describe('parseHeaders', () => {
  it('parses blocks, joins repeated headers, and reports bad lines', () => {
    const problems: string[] = [];
    const rules = parseHeaders(
      [
        '# security',
        '/*',
        '  X-Frame-Options: DENY',
        '  Link: </a.css>; rel=preload',
        '  link: </b.js>; rel=preload',
        '',
        '/assets/*',
        '\tCache-Control: public, max-age=31536000, immutable',
        '  ! X-Robots-Tag',
        '  bad line',
        '/empty',
        '  Bad Name: x',
        '  X-Ok: yes',
      ].join('\n'),
      (m) => problems.push(m),
    );
    expect(rules).toEqual([
      {
        pattern: '/*',
        headers: { 'X-Frame-Options': 'DENY', Link: '</a.css>; rel=preload, </b.js>; rel=preload' },
      },
      { pattern: '/assets/*', headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } },
      { pattern: '/empty', headers: { 'X-Ok': 'yes' } },
    ]);
    expect(problems).toHaveLength(3);
  });

  it('reports a header line before any pattern and a pattern without headers', () => {
    const problems: string[] = [];
    expect(parseHeaders('  X-A: b\n/x\n/y\n  X-B: c\n', (m) => problems.push(m))).toEqual([
      { pattern: '/y', headers: { 'X-B': 'c' } },
    ]);
    expect(problems).toHaveLength(2);
  });
});
