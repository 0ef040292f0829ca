import { z } from 'zod';
import { requiredOr } from './errors.js';

/**
 * A branch, tag or other ref name by `git check-ref-format --allow-onelevel` rules, minus
 * anything git would read as an option (a leading '-') or a forced refspec (a leading '+').
 * contracts/src/git-ref.test.ts holds this against the real git binary.
 */
export function gitRefProblem(ref: string): string | undefined {
  if (ref.length === 0 || ref.length > 255) return 'must be 1 to 255 characters';
  if (ref.startsWith('-') || ref.startsWith('+')) return 'must not start with "-" or "+"';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return 'contains a character git does not allow in ref names';
  if (ref.includes('..')) return 'must not contain ".."';
  if (ref.includes('@{')) return 'must not contain "@{"';
  if (ref === '@') return 'must not be "@"';
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) return 'has an empty path component';
  if (ref.endsWith('.')) return 'must not end with "."';
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) return 'a path component must not start with "."';
    if (component.endsWith('.lock')) return 'a path component must not end with ".lock"';
  }
  return undefined;
}

export const GitRefSchema = z.string({ error: requiredOr('expected a string') }).superRefine((ref, ctx) => {
  const problem = gitRefProblem(ref);
  if (problem) ctx.addIssue({ code: 'custom', message: `is not a valid git ref: ${problem}` });
});
