import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliConfigSchema, type CliConfig } from '@deploysphere/contracts';
import { CliError } from './errors.js';

export type Env = Record<string, string | undefined>;

/** `$XDG_CONFIG_HOME/deploysphere/config.json`, or `~/.config/deploysphere/config.json`. */
export function configPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'deploysphere', 'config.json');
}

export async function readConfig(env: Env): Promise<CliConfig | undefined> {
  let text: string;
  try {
    text = await readFile(configPath(env), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = CliConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw CliError.usage(`${configPath(env)} is not a valid config; run deploysphere login`);
  return parsed.data;
}

/** Written with mode 0600 in a 0700 directory: the token is a credential. */
export async function writeConfig(env: Env, config: CliConfig): Promise<string> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(CliConfigSchema.parse(config), null, 2)}\n`, { mode: 0o600 });
  // An existing file keeps its mode on write: set it.
  await chmod(path, 0o600);
  return path;
}

export async function removeConfig(env: Env): Promise<boolean> {
  const path = configPath(env);
  try {
    await readFile(path);
  } catch {
    return false;
  }
  await rm(path, { force: true });
  return true;
}

export interface Auth {
  url: string;
  token: string;
  tokenSource: 'env' | 'config';
}

/** DEPLOYSPHERE_URL and DEPLOYSPHERE_TOKEN win over the stored login (for CI). */
export async function resolveAuth(env: Env): Promise<Auth> {
  const stored = env.DEPLOYSPHERE_TOKEN && env.DEPLOYSPHERE_URL ? undefined : await readConfig(env);
  const url = env.DEPLOYSPHERE_URL || stored?.url;
  const token = env.DEPLOYSPHERE_TOKEN || stored?.token;
  if (!url || !token) {
    throw CliError.auth(
      'Not logged in: run deploysphere login, or set DEPLOYSPHERE_URL and DEPLOYSPHERE_TOKEN',
    );
  }
  return { url: url.replace(/\/+$/, ''), token, tokenSource: env.DEPLOYSPHERE_TOKEN ? 'env' : 'config' };
}
