// Runs before `npm test`: the tests drive the local platform's programs (nats-server, bubblewrap),
// Chromium and iproute2. As root, missing ones are installed from Debian's packages; otherwise
// this prints the exact command.
import {
  AMTOOL,
  ensurePrograms,
  localPlatformPrograms,
  MissingProgramsError,
  SSHD,
} from '@deploysphere/stack';
import { CHROMIUM } from '../e2e/src/chromium.js';

/** The build-isolation test joins a network namespace of its own to the host with `ip`. */
const IPROUTE2 = { binary: 'ip', debianPackage: 'iproute2' };

try {
  await ensurePrograms(
    [
      ...localPlatformPrograms({ embeddedNats: true, sandboxedBuilds: true, embeddedPrometheus: true }),
      // The alert rules' tests check the Alertmanager example with amtool.
      AMTOOL,
      // The private-repository tests serve a repository over SSH with a deploy key.
      SSHD,
      CHROMIUM,
      IPROUTE2,
    ],
    (line) => console.log(`deploysphere: ${line}`),
  );
} catch (err) {
  console.error(
    err instanceof MissingProgramsError
      ? err.message
      : `could not install system packages: ${(err as Error).message}`,
  );
  process.exit(1);
}
