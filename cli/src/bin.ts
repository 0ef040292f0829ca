import { CLI_EXIT_CODES } from '@deploysphere/contracts';
import { run } from './main.js';

// The `deploysphere` / `ds` entry point (bundled to dist/deploysphere.js).
run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    process.exitCode = CLI_EXIT_CODES.failure;
  },
);
