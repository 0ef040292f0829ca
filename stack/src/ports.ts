import getPort from 'get-port';

/** A free TCP port on the host. Embedded services never use fixed internal ports. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return getPort({ host });
}
