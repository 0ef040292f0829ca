import { defineConfig } from 'vitest/config';

// Each workspace owns its vitest config; `npm test` runs them all as projects in one run.
export default defineConfig({
  test: {
    projects: ['*/vitest.config.ts', 'infra/*/vitest.config.ts'],
  },
});
