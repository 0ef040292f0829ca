import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/**/*.test.ts'],
    // One real platform and one browser per file; builds and installs take a while.
    testTimeout: 240_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
