// Runs before `npm test`: the tests drive real nats-server and bubblewrap processes. As root,
// missing ones are installed from Debian's packages; otherwise this prints the exact command.
import { BUBBLEWRAP, ensurePrograms, MissingProgramsError, NATS_SERVER } from '@deploysphere/stack';
import { CHROMIUM } from '../e2e/src/chromium.js';

try {
  await ensurePrograms([NATS_SERVER, BUBBLEWRAP, CHROMIUM], (line) => console.log(`deploysphere: ${line}`));
} catch (err) {
  console.error(
    err instanceof MissingProgramsError
      ? err.message
      : `could not install system packages: ${(err as Error).message}`,
  );
  process.exit(1);
}
