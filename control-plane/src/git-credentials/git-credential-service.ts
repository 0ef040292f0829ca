import {
  AppError,
  type CreateDeployKeyBody,
  type GitCloneCredential,
  type GitCredentialView,
  type SetGitCredentialBody,
} from '@deploysphere/contracts';
import type { Db, GitCredential, Project } from '@deploysphere/db';
import type { EnvCipher } from '../projects/env-cipher.js';
import { generateDeployKey } from './deploy-key.js';
import { scanHostKeys, sshEndpoint } from './host-keys.js';

/** The secret's name in the cipher's associated data; `:` never occurs in an env key. */
const SECRET_NAME = 'git:credential';
/** What git sends as the user with a token when none is given; GitHub and Gitea accept any. */
const DEFAULT_TOKEN_USER = 'x-access-token';

export interface GitCredentialServiceDeps {
  db: Db;
  cipher: EnvCipher;
  /** Scans an SSH server's host keys (tests may not replace it: they run a real sshd). */
  scan?: typeof scanHostKeys;
}

/**
 * A private repository's clone credential: an HTTPS token, or an ed25519 deploy key the
 * platform generates, with the server's host keys pinned. Encrypted at rest like env values and
 * write-only through the API; it leaves the control plane only in a build's spec, for the
 * worker's clone (docs/git-deploys.md, "Private repositories").
 */
export class GitCredentialService {
  constructor(private readonly deps: GitCredentialServiceDeps) {}

  async get(slug: string): Promise<GitCredentialView> {
    const project = await this.project(slug);
    const row = await this.deps.db.gitCredential.findUnique({ where: { projectId: project.id } });
    if (!row) throw AppError.notFound(`The Git credential of ${slug}`, 'slug');
    return view(row);
  }

  async setToken(slug: string, body: SetGitCredentialBody): Promise<GitCredentialView> {
    const project = await this.project(slug);
    const data = {
      kind: 'token',
      username: body.username ?? DEFAULT_TOKEN_USER,
      secretCiphertext: this.deps.cipher.encrypt(project.id, SECRET_NAME, body.token),
      publicKey: null,
      knownHosts: null,
    };
    const row = await this.deps.db.gitCredential.upsert({
      where: { projectId: project.id },
      create: { projectId: project.id, ...data },
      update: data,
    });
    return view(row);
  }

  /** A new deploy key (the old credential goes); its host keys given, or scanned now. */
  async createDeployKey(slug: string, body: CreateDeployKeyBody): Promise<GitCredentialView> {
    const project = await this.project(slug);
    const endpoint = sshEndpoint(project.repoUrl);
    if (!endpoint) {
      throw AppError.conflict(
        `repoUrl: ${project.repoUrl.slice(0, 200)} is not an SSH URL (git@host:path or ssh://host/path); a deploy key needs one`,
        'repoUrl',
      );
    }
    const knownHosts = body.knownHosts ?? (await (this.deps.scan ?? scanHostKeys)(endpoint));
    const key = generateDeployKey(`deploysphere-${slug}`);
    const data = {
      kind: 'ssh',
      username: null,
      secretCiphertext: this.deps.cipher.encrypt(project.id, SECRET_NAME, key.privateKey),
      publicKey: key.publicKey,
      knownHosts,
    };
    const row = await this.deps.db.gitCredential.upsert({
      where: { projectId: project.id },
      create: { projectId: project.id, ...data },
      update: data,
    });
    return view(row);
  }

  async setKnownHosts(slug: string, knownHosts: string): Promise<GitCredentialView> {
    const project = await this.project(slug);
    const { count } = await this.deps.db.gitCredential.updateMany({
      where: { projectId: project.id, kind: 'ssh' },
      data: { knownHosts },
    });
    if (count === 0) throw AppError.notFound(`The deploy key of ${slug}`, 'slug');
    return this.get(slug);
  }

  async remove(slug: string): Promise<void> {
    const project = await this.project(slug);
    const { count } = await this.deps.db.gitCredential.deleteMany({ where: { projectId: project.id } });
    if (count === 0) throw AppError.notFound(`The Git credential of ${slug}`, 'slug');
  }

  private async project(slug: string): Promise<Project> {
    const project = await this.deps.db.project.findUnique({ where: { slug } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    return project;
  }
}

/** The credential for a build's spec, decrypted; null for a public repository. */
export async function cloneCredentialFor(
  db: Db,
  cipher: EnvCipher,
  projectId: string,
): Promise<GitCloneCredential | null> {
  const row = await db.gitCredential.findUnique({ where: { projectId } });
  if (!row) return null;
  const secret = cipher.decrypt(projectId, SECRET_NAME, row.secretCiphertext);
  if (row.kind === 'ssh') return { kind: 'ssh', privateKey: secret, knownHosts: row.knownHosts ?? '' };
  return { kind: 'token', username: row.username ?? DEFAULT_TOKEN_USER, token: secret };
}

function view(row: GitCredential): GitCredentialView {
  return {
    kind: row.kind as GitCredentialView['kind'],
    username: row.username,
    publicKey: row.publicKey,
    knownHosts: row.knownHosts,
    updatedAt: row.updatedAt.toISOString(),
  };
}
