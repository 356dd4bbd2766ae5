import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium, which scripts/ensure-deps.cjs installs where it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where tests leave screenshots for people to look at (gitignored). */
export const ARTEFACTS = path.join(__dirname, '..', 'test-artifacts');

/** A headless Chromium with a profile of its own, that talks to nothing but the pages it is sent to. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`node scripts/ensure-deps.cjs\` (it installs Debian's chromium)`);
  mkdirSync(ARTEFACTS, { recursive: true });
  const profile = mkdtempSync(path.join(os.tmpdir(), 'stockflow-chromium-'));
  // A fresh profile each time: playwright passes it as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
