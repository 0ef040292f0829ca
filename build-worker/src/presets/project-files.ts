import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ProjectDirRef {
  /** Relative to the checkout ('' for the root). */
  relative: string;
  absolute: string;
}

/**
 * What detection may look at: the project directory (rootDir), and for lockfiles also each
 * parent up to the repository root, where a monorepo keeps its one lockfile.
 */
export class ProjectFiles {
  readonly lockfileDirs: ProjectDirRef[];

  constructor(
    readonly checkoutDir: string,
    readonly workdir: string,
  ) {
    const dirs: ProjectDirRef[] = [];
    const parts = workdir ? workdir.split('/') : [];
    for (let n = parts.length; n >= 0; n--) {
      const relative = parts.slice(0, n).join('/');
      dirs.push({ relative, absolute: relative ? join(checkoutDir, relative) : checkoutDir });
    }
    this.lockfileDirs = dirs;
  }

  get projectDir(): string {
    return this.workdir ? join(this.checkoutDir, this.workdir) : this.checkoutDir;
  }

  async exists(path: string): Promise<boolean> {
    return pathExists(join(this.projectDir, path));
  }

  async existsAt(dir: ProjectDirRef, path: string): Promise<boolean> {
    return pathExists(join(dir.absolute, path));
  }

  /** The first of the given names that exists in the project directory. */
  async firstOf(names: readonly string[]): Promise<string | null> {
    for (const name of names) if (await this.exists(name)) return name;
    return null;
  }

  async read(path: string): Promise<string | null> {
    try {
      return await readFile(join(this.projectDir, path), 'utf8');
    } catch {
      return null;
    }
  }

  /** package.json as an object, or null when absent; a malformed one is an error for the user. */
  async packageJson(): Promise<Record<string, unknown> | null> {
    const text = await this.read('package.json');
    if (text === null) return null;
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new SyntaxError('package.json is not a JSON object');
    }
    return parsed as Record<string, unknown>;
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
