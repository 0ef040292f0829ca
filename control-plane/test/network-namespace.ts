import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { stopChild } from '@deploysphere/stack';

const run = promisify(execFile);

/**
 * A network namespace this test makes for itself, joined to the host by a veth pair, with a TCP
 * listener inside on each given address. It stands in for what a build must never reach in
 * production (the VPC's private hosts, the cloud metadata endpoint) without sending a packet
 * anywhere but this machine. Needs root and iproute2.
 */
export interface TestNetworkNamespace {
  /** `address:port` of every listener, each answering with `banner`. */
  targets: { address: string; port: number }[];
  banner: string;
  remove(): Promise<void>;
}

/**
 * @param subnets `[hostSide, namespaceSide]` address pairs, each a /30 of its own. Choose ranges
 *   the machine does not route anywhere else.
 */
export async function createTestNetworkNamespace(
  subnets: [host: string, inside: string][],
  port: number,
): Promise<TestNetworkNamespace> {
  const id = randomBytes(3).toString('hex');
  const ns = `ds-test-${id}`;
  // Interface names are limited to 15 characters.
  const hostIf = `dsh${id}`;
  const nsIf = `dsn${id}`;
  const banner = `listener-${id}`;
  const ip = (...args: string[]) => run('ip', args);
  const inNs = (...args: string[]) => run('ip', ['netns', 'exec', ns, ...args]);
  let listener: ChildProcess | undefined;

  const remove = async () => {
    if (listener) await stopChild(listener, 2_000);
    await ip('netns', 'del', ns).catch(() => undefined);
    await ip('link', 'del', hostIf).catch(() => undefined);
  };

  try {
    await ip('netns', 'add', ns);
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    await ip('link', 'set', nsIf, 'netns', ns);
    for (const [host, inside] of subnets) {
      await ip('addr', 'add', `${host}/30`, 'dev', hostIf);
      await inNs('ip', 'addr', 'add', `${inside}/30`, 'dev', nsIf);
    }
    await ip('link', 'set', hostIf, 'up');
    await inNs('ip', 'link', 'set', nsIf, 'up');
    await inNs('ip', 'link', 'set', 'lo', 'up');

    const script = `require('net').createServer((s) => { s.on('error', () => {}); s.end(${JSON.stringify(`${banner}\n`)}); }).listen(${port}, '0.0.0.0', () => console.log('listening'));`;
    listener = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      listener!.stdout!.once('data', () => resolve());
      listener!.once('exit', (code) => reject(new Error(`the namespace's listener exited with ${code}`)));
    });
    const targets = subnets.map(([, inside]) => ({ address: inside, port }));
    // The host itself reaches every listener: a build that could use the host's network would too.
    for (const t of targets) {
      const answer = await readBanner(t.address, t.port);
      if (!answer.includes(banner))
        throw new Error(`${t.address}:${t.port} answered ${JSON.stringify(answer)}`);
    }
    return { targets, banner, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

function readBanner(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect({ host, port, timeout: 5_000 });
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('end', () => resolve(data));
    socket.on('timeout', () => socket.destroy(new Error(`${host}:${port} timed out`)));
    socket.on('error', reject);
  });
}
