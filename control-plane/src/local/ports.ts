import { createServer } from 'node:net';
import { StartupError } from './startup-error.js';

/**
 * Fails fast, before anything is started, when a fixed port the user chose is taken: that is the
 * most common start-up problem, and its message should name the setting rather than a child.
 */
export async function assertPortFree(setting: string, host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new StartupError(
              setting,
              `${setting}=${port} is already in use on ${host}. Stop whatever listens there, or set ${setting} to a free port.`,
            )
          : new StartupError(setting, `${setting}=${port} cannot be used on ${host}: ${err.message}`, {
              cause: err,
            }),
      );
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
