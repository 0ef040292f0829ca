// Runs before `npm test`: the tests drive the local platform's programs (nats-server, bubblewrap)
// and Chromium. As root,
// missing ones are installed from Debian's packages; otherwise this prints the exact command.
import { ensurePrograms, localPlatformPrograms, MissingProgramsError } from '@deploysphere/stack';
import { CHROMIUM } from '../e2e/src/chromium.js';

try {
  await ensurePrograms(
    [...localPlatformPrograms({ embeddedNats: true, sandboxedBuilds: true }), CHROMIUM],
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
