import { execFile } from 'node:child_process';
import { AppError } from '@deploysphere/contracts';

/** The SSH server a repository URL names: scp-style `user@host:path` or `ssh://user@host:port/path`. */
export function sshEndpoint(repoUrl: string): { host: string; port: number } | undefined {
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(?!\/\/)\S+$/.exec(repoUrl);
  if (scp) return { host: scp[1]!.toLowerCase(), port: 22 };
  try {
    const u = new URL(repoUrl);
    if (u.protocol !== 'ssh:' || !u.hostname) return undefined;
    return { host: u.hostname.toLowerCase(), port: u.port ? Number(u.port) : 22 };
  } catch {
    return undefined;
  }
}

/**
 * The server's host keys, as known_hosts lines, from `ssh-keyscan` (argv, never a shell). This
 * is trust on first use, done once when the deploy key is made: every clone after it checks the
 * server against these lines, and a changed key fails the clone.
 */
export function scanHostKeys(endpoint: { host: string; port: number }, timeoutSeconds = 5): Promise<string> {
  if (!/^[a-z0-9.-]+$/.test(endpoint.host) || endpoint.host.startsWith('-')) {
    return Promise.reject(AppError.badRequest(`repoUrl: ${endpoint.host} is not a host name`, 'repoUrl'));
  }
  const args = [
    '-T',
    String(timeoutSeconds),
    '-t',
    'ed25519,ecdsa,rsa',
    '-p',
    String(endpoint.port),
    '--',
    endpoint.host,
  ];
  return new Promise((resolve, reject) => {
    execFile('ssh-keyscan', args, { timeout: (timeoutSeconds + 5) * 1000 }, (err, stdout) => {
      const lines = stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
      if (lines.length > 0) return resolve(`${lines.join('\n')}\n`);
      reject(
        new AppError(
          422,
          'host_key_scan_failed',
          `knownHosts: ${endpoint.host}:${endpoint.port} answered no SSH host key${err ? ` (${err.message.split('\n')[0]})` : ''}; give knownHosts yourself`,
          { field: 'knownHosts' },
        ),
      );
    });
  });
}
