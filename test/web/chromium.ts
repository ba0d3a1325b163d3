/**
 * Debian's Chromium driven by playwright-core (issue 13): launched from
 * /usr/bin/chromium with the fixed flags on a fresh user-data directory,
 * never a downloaded browser. Every request the pages make is recorded, so
 * a test can fail if one leaves the server under test. Under CI=true a
 * missing Chromium fails the test; elsewhere it skips with a message.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';

export const CHROMIUM = '/usr/bin/chromium';
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every URL requested by any page of the context, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Launches Chromium, or reports why it cannot (fail under CI, skip elsewhere) and returns undefined. */
export async function launch(t: Test, viewport = { width: 1100, height: 900 }): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    const why = `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`;
    if (process.env['CI'] === 'true') t.fail(why);
    else void t.skip(why, () => {});
    return undefined;
  }
  const userData = mkdtempSync(join(tmpdir(), 'vitrine-chromium-'));
  const context = await chromium.launchPersistentContext(userData, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport, acceptDownloads: true });
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    requests,
    async close() {
      await context.close();
      rmSync(userData, { recursive: true, force: true });
    },
  };
}

/** The requested URLs that are not on `origin` (e.g. "http://127.0.0.1:1234"). */
export function foreign(requests: readonly string[], origin: string): string[] {
  return requests.filter((u) => new URL(u).origin !== origin);
}

/** Where to write a screenshot for docs/, when VITRINE_SCREENSHOTS names a directory (scripts: `npm run screenshots`). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env['VITRINE_SCREENSHOTS'];
  if (dir) await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
