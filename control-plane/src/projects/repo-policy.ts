import { isIP } from 'node:net';
import { AppError, parseRepoUrl } from '@deploysphere/contracts';

/**
 * Where a build may clone from. `file://` URLs and loopback, private and link-local hosts are
 * reachable only from the machine itself, so they are refused unless local repos are allowed
 * (on for `npm start`, off by default in production), which keeps builds from probing the
 * platform's own network.
 */
export function assertRepoUrlAllowed(url: string, allowLocalRepos: boolean, field = 'repoUrl'): void {
  const parsed = parseRepoUrl(url);
  if (!parsed) throw AppError.badRequest(`${field}: expected an https:// URL or git@host:path`, field);
  if (allowLocalRepos) return;
  if (parsed.kind === 'http') {
    throw AppError.badRequest(
      `${field}: http:// repositories are not allowed on this platform (use https://)`,
      field,
    );
  }
  if (parsed.kind === 'file') {
    throw AppError.badRequest(`${field}: file:// repositories are not allowed on this platform`, field);
  }
  if (isLocalHost(parsed.host)) {
    throw AppError.badRequest(`${field}: ${parsed.host} is a local or private address`, field);
  }
}

export function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal'))
    return true;
  if (isIP(h) === 4) {
    const [a, b] = h.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    );
  }
  if (isIP(h) === 6) {
    return h === '::' || h === '::1' || /^f[cd]/.test(h) || /^fe[89ab]/.test(h) || h.startsWith('::ffff:');
  }
  return false;
}
