import { ensurePrograms } from '@deploysphere/stack';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

/** Installs Chromium when missing (as root, like nats-server and bubblewrap), then starts it. */
export async function launchChromium(): Promise<Browser> {
  const found = await ensurePrograms([CHROMIUM], (line) => console.log(`e2e: ${line}`));
  return chromium.launch({
    executablePath: found.get(CHROMIUM.binary)!,
    args: CHROMIUM_ARGS,
    headless: true,
  });
}
