import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gitRefProblem } from './git-ref.js';

/** What the real git says, so our rules are checked against git's, not against our reading of them. */
function gitAccepts(ref: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--allow-onelevel', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const refs = [
  'main',
  'feature/login',
  'v1.2.3',
  'release-2026',
  'a/b/c',
  'HEAD',
  'with@sign',
  'ünïcode',
  'a..b',
  'a/.hidden',
  'a.lock',
  'a/b.lock/c',
  'end.',
  'end/',
  '/start',
  'a//b',
  'sp ace',
  'ti~lde',
  'ca^ret',
  'co:lon',
  'qu?estion',
  'st*ar',
  'br[acket',
  'back\\slash',
  'at@{brace',
  '@',
  'tab\there',
  'nul\u0000byte',
  'del\u007f',
  '.dot',
  'a/.',
  'a/..',
  'x'.repeat(255),
];

describe('gitRefProblem agrees with git check-ref-format', () => {
  it.each(refs)('%j', (ref) => {
    expect(gitRefProblem(ref) === undefined).toBe(gitAccepts(ref));
  });

  it('also refuses what git would take as an option or a forced refspec', () => {
    expect(gitRefProblem('-rf')).toMatch(/must not start/);
    expect(gitRefProblem('+main')).toMatch(/must not start/);
  });
});
