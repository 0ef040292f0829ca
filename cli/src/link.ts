import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliProjectLinkSchema } from '@deploysphere/contracts';
import { CliError } from './errors.js';
import { LINK_DIR } from './folder.js';

/** `.deploysphere/project.json`: which project a folder deploys to, as `vercel link` keeps it. */
export async function readLink(root: string): Promise<string | undefined> {
  try {
    const parsed = CliProjectLinkSchema.safeParse(
      JSON.parse(await readFile(join(root, LINK_DIR, 'project.json'), 'utf8')),
    );
    return parsed.success ? parsed.data.project : undefined;
  } catch {
    return undefined;
  }
}

/** The project a deploy names (--project), else the one the folder is linked to. */
export function requireProject(flag: string | undefined, linked: string | undefined): string {
  const project = flag ?? linked;
  if (!project) {
    throw CliError.usage(
      'Which project? Pass --project <name> (a new name creates the project); the folder remembers it afterwards',
    );
  }
  return project;
}

export async function writeLink(root: string, project: string): Promise<void> {
  await mkdir(join(root, LINK_DIR), { recursive: true });
  await writeFile(
    join(root, LINK_DIR, 'project.json'),
    `${JSON.stringify(CliProjectLinkSchema.parse({ v: 1, project }), null, 2)}\n`,
  );
  // Keeps the link out of Git, as .vercel/ does.
  await writeFile(join(root, LINK_DIR, '.gitignore'), '*\n');
}
