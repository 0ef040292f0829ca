// The first program inside a build's sandbox. The sandbox has its own network namespace with only
// a loopback interface; this forwards 127.0.0.1:<port> to the egress proxy's Unix socket, which is
// bound in from outside, and only then starts the user's command. It is plain JavaScript because
// it runs on the bare Node toolchain inside the sandbox, where none of the platform's modules are.
//
//   node sandbox-init.mjs <port> <socket> -- <command> [args...]
//   node sandbox-init.mjs - - -- <command> [args...]      (no network: only the status pipe)
//
// It exits with the command's exit code, or 128 + the signal number when a signal ended it, as a
// shell would. Because an exit code above 128 is also an ordinary exit (npm exits 254 when
// package.json is missing), it also writes the real outcome as JSON on fd 3 when the worker gave
// it that pipe: {"code":N} or {"signal":"SIGXCPU"}. The worker names a signal only from that.
// The command could write there too (it inherits the descriptor), but it can only mislabel its
// own failure.
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { constants } from 'node:os';

const [port, socketPath, separator, file, ...args] = process.argv.slice(2);
if (!port || !socketPath || separator !== '--' || !file) {
  process.stderr.write('usage: sandbox-init.mjs <port> <socket> -- <command> [args...]\n');
  process.exit(125);
}

function startCommand() {
  const child = spawn(file, args, { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`DeploySphere sandbox: could not start ${file}: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    try {
      writeSync(3, JSON.stringify(signal ? { signal } : { code }));
    } catch {
      // no status pipe: run by hand
    }
    process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
}

if (port === '-') {
  startCommand();
} else {
  startForwarder();
}

function startForwarder() {
  const server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = connect(socketPath);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  server.on('error', (err) => {
    process.stderr.write(`DeploySphere sandbox: the network forwarder could not start: ${err.message}\n`);
    process.exit(125);
  });

  // The command starts only once the forwarder listens, so its first request never races it.
  server.listen(Number(port), '127.0.0.1', startCommand);
}
