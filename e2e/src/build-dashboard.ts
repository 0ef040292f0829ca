import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/**
 * Builds the dashboard into dashboard/dist, the directory the control plane serves, so the
 * browser tests run against the source as it is now, not a stale postinstall build.
 */
export async function buildDashboard(): Promise<void> {
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      root: DASHBOARD_DIR,
      configFile: `${DASHBOARD_DIR}vite.config.ts`,
      mode: 'production',
      logLevel: 'warn',
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
