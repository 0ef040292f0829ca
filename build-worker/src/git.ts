import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BuildError } from './build-error.js';
import { redactUrlCredentials, type LogSink } from './log-sink.js';
import { runProcess } from './run-process.js';

const execFileAsync = promisify(execFile);

/**
 * Checks a ref name by git's own rules (`git check-ref-format --allow-onelevel`), and rejects
 * what git would accept but we never want on a command line: a leading '-' (an option) or '+'
 * (a forced refspec), and ':' (a refspec separator, which git's rules reject as well).
 */
export async function validateGitRef(ref: string): Promise<void> {
  const invalid = (why: string) =>
    new BuildError('invalid_input', `Invalid git ref ${JSON.stringify(ref)}: ${why}`, { phase: 'clone' });
  if (ref.length === 0 || ref.length > 255) throw invalid('expected 1 to 255 characters');
  if (ref.startsWith('-') || ref.startsWith('+')) throw invalid('must not start with "-" or "+"');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref))
    throw invalid('contains a character git does not allow in ref names');
  try {
    await execFileAsync('git', ['check-ref-format', '--allow-onelevel', ref], {
      env: gitEnv('/nonexistent'),
    });
  } catch {
    throw invalid('not a valid ref name by git check-ref-format');
  }
}

/** git's environment: no prompts, no system or user config (so no credential helpers), C locale. */
function gitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new',
  };
}

export interface CloneOptions {
  repoUrl: string;
  /** null: the remote's default branch (its HEAD). */
  gitRef: string | null;
  /** An empty or absent directory the checkout is written to. */
  dest: string;
  logs: LogSink;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * The project's rootDir in a monorepo: only it (and the repository's top-level files, where a
   * workspace keeps its lockfile) is checked out, and only its blobs are fetched.
   */
  sparseDir?: string | null;
}

/** Directory names that mean nothing to git's cone patterns; anything else gets a full checkout. */
const CONE_SAFE = /^[\w.@+-]+(\/[\w.@+-]+)*$/;

/** Cone-mode patterns for one directory: the top level's files, and each parent down to it. */
export function conePatterns(dir: string): string {
  const parts = dir.split('/');
  const lines = ['/*', '!/*/'];
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    lines.push(`/${prefix}/`);
    if (i < parts.length) lines.push(`!/${prefix}/*/`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A depth-1 checkout of one ref: `git init` + `git fetch --depth 1 -- <url> <ref>` + checkout,
 * which handles branches, tags and full commit SHAs alike. Returns the commit SHA.
 */
export async function cloneRepo(opts: CloneOptions): Promise<{ commitSha: string }> {
  if (opts.repoUrl.startsWith('-')) {
    throw new BuildError('invalid_input', 'Invalid repository URL: must not start with "-"', {
      phase: 'clone',
    });
  }
  if (opts.gitRef !== null) await validateGitRef(opts.gitRef);

  await mkdir(opts.dest, { recursive: true });
  const home = await mkdtemp(join(tmpdir(), 'deploysphere-git-home-'));
  const env = gitEnv(home);
  const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
  const shownUrl = redactUrlCredentials(opts.repoUrl);

  const git = async (args: string[], what: string) => {
    const result = await runProcess('git', ['-c', 'protocol.ext.allow=never', ...args], {
      cwd: opts.dest,
      env,
      signal: opts.signal,
      timeoutMs: deadline === undefined ? undefined : deadline - Date.now(),
      onLine: (_stream, line) => opts.logs.write('system', redactUrlCredentials(line)),
    });
    if (result.aborted) throw new BuildError('cancelled', 'Build cancelled', { phase: 'clone' });
    if (result.timedOut)
      throw new BuildError('timeout', `Timed out while cloning ${shownUrl}`, { phase: 'clone' });
    if (result.code !== 0) {
      const last = result.tail.map(redactUrlCredentials).join('\n');
      throw new BuildError(
        'clone_failed',
        `${what} failed (exit code ${result.code ?? result.signal}):\n${last}`,
        {
          phase: 'clone',
        },
      );
    }
  };

  try {
    opts.logs.write('system', `Cloning ${shownUrl} at ${opts.gitRef ?? 'the default branch'}`);
    await git(['init', '--quiet', '.'], 'git init');
    const sparse =
      opts.sparseDir &&
      CONE_SAFE.test(opts.sparseDir) &&
      !opts.sparseDir.split('/').some((p) => p === '.' || p === '..')
        ? opts.sparseDir
        : null;
    if (sparse) {
      // A partial clone (no blobs up front) plus a sparse checkout: checkout then fetches only the
      // blobs of the root directory and the top-level files. git lazily fetches missing blobs
      // from a named remote only, so the URL is kept in .git/config until the checkout is done.
      opts.logs.write('system', `Partial clone with a sparse checkout of ${sparse}/`);
      await git(['remote', 'add', 'origin', opts.repoUrl], 'git remote add');
      await git(['config', 'core.sparseCheckout', 'true'], 'git config');
      await git(['config', 'core.sparseCheckoutCone', 'true'], 'git config');
      await mkdir(join(opts.dest, '.git', 'info'), { recursive: true });
      await writeFile(join(opts.dest, '.git', 'info', 'sparse-checkout'), conePatterns(sparse));
    }
    try {
      await git(
        [
          'fetch',
          '--quiet',
          '--depth',
          '1',
          '--no-tags',
          '--no-recurse-submodules',
          ...(sparse ? ['--filter=blob:none', 'origin'] : ['--', opts.repoUrl]),
          opts.gitRef ?? 'HEAD',
        ],
        `Fetching ${opts.gitRef ?? 'the default branch'} from ${shownUrl}`,
      );
      await git(
        ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', 'FETCH_HEAD'],
        'git checkout',
      );
    } finally {
      // The checkout is bound into the sandbox: no URL (which may hold a token) stays in its config.
      if (sparse) await git(['remote', 'remove', 'origin'], 'git remote remove').catch(() => undefined);
    }
    const { stdout } = await execFileAsync('git', ['rev-parse', 'HEAD'], { cwd: opts.dest, env });
    const commitSha = stdout.trim();
    opts.logs.write('system', `Checked out commit ${commitSha}`);
    return { commitSha };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
