import type { SystemProgram } from '@deploysphere/stack';

/**
 * Debian's Chromium, which playwright-core drives (`playwright install` cannot download a browser
 * here). Kept free of playwright imports so scripts/ensure-system-packages.ts can list it cheaply.
 */
export const CHROMIUM: SystemProgram = { binary: 'chromium', debianPackage: 'chromium' };

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
