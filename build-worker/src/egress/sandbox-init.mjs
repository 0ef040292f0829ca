// The first program inside a build's sandbox. The sandbox has its own network namespace with only
// a loopback interface; this forwards 127.0.0.1:<port> to the egress proxy's Unix socket, which is
// bound in from outside, and only then starts the user's command. It is plain JavaScript because
// it runs on the bare Node toolchain inside the sandbox, where none of the platform's modules are.
//
//   node sandbox-init.mjs <port> <socket> -- <command> [args...]
//
// It exits with the command's exit code, or 128 + the signal number when a signal ended it, as a
// shell would, so the worker reads the outcome the same way with or without it.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { constants } from 'node:os';

const [port, socketPath, separator, file, ...args] = process.argv.slice(2);
if (!port || !socketPath || separator !== '--' || !file) {
  process.stderr.write('usage: sandbox-init.mjs <port> <socket> -- <command> [args...]\n');
  process.exit(125);
}

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
server.listen(Number(port), '127.0.0.1', () => {
  const child = spawn(file, args, { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`DeploySphere sandbox: could not start ${file}: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
});
