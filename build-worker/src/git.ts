import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { GitCloneCredential } from '@deploysphere/contracts';
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
  /**
   * A private repository's token or deploy key. It is written to files in the clone's own
   * temporary HOME (mode 0700, outside the sandbox, which never binds it) that git reads through
   * GIT_ASKPASS or GIT_SSH_COMMAND, and removed with it before the clone returns: never in a
   * URL, an argv, the environment or a log line, and gone before any user command runs.
   */
  credential?: GitCloneCredential | null;
}

/** Single-quoted for the shell that runs GIT_SSH_COMMAND; mkdtemp paths never hold a quote. */
const shellQuote = (path: string) => `'${path.replace(/'/g, `'\\''`)}'`;

/** Writes the credential's files and answers the environment that points git at them. */
async function credentialEnv(dir: string, credential: GitCloneCredential): Promise<Record<string, string>> {
  await mkdir(dir, { mode: 0o700 });
  if (credential.kind === 'token') {
    await writeFile(join(dir, 'username'), credential.username, { mode: 0o600 });
    await writeFile(join(dir, 'password'), credential.token, { mode: 0o600 });
    // git asks "Username for '…':" and "Password for '…':"; the answers come from the files, so
    // the script (and any process listing) holds only their paths.
    const askpass = join(dir, 'askpass');
    await writeFile(
      askpass,
      [
        '#!/bin/sh',
        'case "$1" in',
        `  [Uu]sername*) exec /bin/cat ${shellQuote(join(dir, 'username'))} ;;`,
        `  *) exec /bin/cat ${shellQuote(join(dir, 'password'))} ;;`,
        'esac',
        '',
      ].join('\n'),
      { mode: 0o700 },
    );
    return { GIT_ASKPASS: askpass };
  }
  const key = join(dir, 'deploy_key');
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(
    key,
    credential.privateKey.endsWith('\n') ? credential.privateKey : `${credential.privateKey}\n`,
    {
      mode: 0o600,
    },
  );
  await writeFile(knownHosts, credential.knownHosts, { mode: 0o600 });
  // No ssh config, only this key, only these host keys: a host key that differs fails the clone.
  return {
    GIT_SSH_COMMAND: [
      'ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes',
      '-o UpdateHostKeys=no -o GlobalKnownHostsFile=/dev/null',
      `-o UserKnownHostsFile=${shellQuote(knownHosts)} -i ${shellQuote(key)}`,
    ].join(' '),
  };
}

/** What ssh prints when the server's key is not the pinned one. */
const HOST_KEY_MISMATCH =
  /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|No \S+ host key is known/;

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
  const secret =
    opts.credential?.kind === 'token'
      ? opts.credential.token
      : opts.credential?.kind === 'ssh'
        ? opts.credential.privateKey
        : undefined;
  // A line git or ssh prints never carries the secret; masked anyway, as env values are.
  const redact = (line: string) => {
    const shown = redactUrlCredentials(line);
    return secret ? shown.split(secret).join('***') : shown;
  };
  const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
  const shownUrl = redactUrlCredentials(opts.repoUrl);

  const git = async (args: string[], what: string) => {
    const result = await runProcess('git', ['-c', 'protocol.ext.allow=never', ...args], {
      cwd: opts.dest,
      env,
      signal: opts.signal,
      timeoutMs: deadline === undefined ? undefined : deadline - Date.now(),
      onLine: (_stream, line) => opts.logs.write('system', redact(line)),
    });
    if (result.aborted) throw new BuildError('cancelled', 'Build cancelled', { phase: 'clone' });
    if (result.timedOut)
      throw new BuildError('timeout', `Timed out while cloning ${shownUrl}`, { phase: 'clone' });
    if (result.code !== 0) {
      const last = result.tail.map(redact).join('\n');
      if (opts.credential?.kind === 'ssh' && HOST_KEY_MISMATCH.test(last)) {
        throw new BuildError(
          'clone_failed',
          `${what} failed: the SSH server's host key is not the one pinned for this project. If the server's key really changed, pin the new one (PUT /projects/:slug/deploy-key/known-hosts); otherwise someone may be impersonating the server.\n${last}`,
          { phase: 'clone' },
        );
      }
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
    if (opts.credential) Object.assign(env, await credentialEnv(join(home, 'credential'), opts.credential));
    opts.logs.write(
      'system',
      `Cloning ${shownUrl} at ${opts.gitRef ?? 'the default branch'}${opts.credential ? ` with the project's ${opts.credential.kind === 'ssh' ? 'deploy key' : 'access token'}` : ''}`,
    );
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
