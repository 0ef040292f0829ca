import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'infra-aws',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Building the stacks takes a few seconds; the synth test runs the CDK CLI.
    testTimeout: 60_000,
  },
});
