/**
 * Headless Chromium for the report tests (Debian's /usr/bin/chromium driven by playwright-core,
 * as in /work/shared/reference/test-rig.md). Each browser gets a fresh profile folder that is
 * removed on close. A browser that does not start is a test failure with the reason, never a
 * silent skip: these tests are how we know the page renders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.AXCTL_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface BrowserOptions {
  javaScriptEnabled?: boolean;
  /** Ignore the page's Content-Security-Policy, so a request it would block still shows up. */
  bypassCSP?: boolean;
  colorScheme?: 'light' | 'dark';
}

export async function startBrowser(opts: BrowserOptions = {}): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'axctl-report-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      offline: true,
      javaScriptEnabled: opts.javaScriptEnabled ?? false,
      bypassCSP: opts.bypassCSP ?? false,
      colorScheme: opts.colorScheme ?? 'light',
      viewport: { width: 1200, height: 900 },
      timeout: 30_000,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`headless Chromium did not start (${CHROMIUM}): ${reason}. Install Debian's chromium package or set AXCTL_CHROMIUM to a Chromium binary.`);
  }
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
