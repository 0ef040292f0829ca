import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

/** Every repository a test file made; removed when its worker exits, so no test leaves one behind. */
const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A real git repository on disk, served to builds as a file:// URL. */
export class GitRepo {
  private constructor(readonly dir: string) {}

  static async create(files: Record<string, string>, branch = 'main'): Promise<GitRepo> {
    const dir = await mkdtemp(join(tmpdir(), 'ds-repo-'));
    made.push(dir);
    await run('git', ['init', '-q', '-b', branch, dir]);
    const repo = new GitRepo(dir);
    await repo.commit(files, 'initial');
    return repo;
  }

  get url(): string {
    return pathToFileURL(this.dir).toString();
  }

  /** Writes the files and commits them; returns the new commit's sha. */
  async commit(files: Record<string, string>, message = 'update'): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(this.dir, path)), { recursive: true });
      await writeFile(join(this.dir, path), content);
    }
    await run('git', ['-C', this.dir, 'add', '-A'], { env: GIT_ENV });
    await run('git', ['-C', this.dir, 'commit', '-q', '--allow-empty', '-m', message], { env: GIT_ENV });
    const { stdout } = await run('git', ['-C', this.dir, 'rev-parse', 'HEAD']);
    return stdout.trim();
  }
}
