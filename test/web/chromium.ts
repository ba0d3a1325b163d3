/**
 * Debian's Chromium driven by playwright-core (issue 13): launched from
 * /usr/bin/chromium with the fixed flags on a fresh user-data directory,
 * never a downloaded browser. Every request the pages make is recorded, so
 * a test can fail if one leaves the server under test. Under CI=true a
 * missing Chromium fails the test; elsewhere it skips with a message.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Test } from 'tap';

// Loaded with require, not import: playwright-core is CommonJS, and an ES
// import first scans its 3.6 MB bundle for the names it exports (Node's
// cjs-module-lexer), which cost each browser test file ~0.15-0.3 s of CPU.
const { chromium } = createRequire(import.meta.url)('playwright-core') as typeof import('playwright-core');

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

/**
 * Runs `action` (a click that checks something) and waits for the verdict it
 * produces: the pages replace #verdict with a new element on every check,
 * so a verdict already shown is not mistaken for the new one.
 */
export async function newVerdict(page: Page, action: () => Promise<void>): Promise<void> {
  const old = await page.$('#verdict');
  await action();
  // (Browser globals, typed by hand: the test build has no DOM library.)
  if (old) await page.waitForFunction((e) => !(e as unknown as { isConnected: boolean }).isConnected, old);
  await old?.dispose();
  await page.locator('#verdict').waitFor();
}

/**
 * The page's layout width and the window's, with the window made 360 px
 * wide (a phone), then restored: the page is laid out again for the new
 * width, as when a phone turns, without loading it again.
 */
export async function narrowWidths(page: Page): Promise<{ scroll: number; width: number }> {
  const was = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 740 });
  const [scroll, width] = await page.evaluate(() => {
    const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
    return [g.document.documentElement.scrollWidth, g.innerWidth];
  });
  if (was) await page.setViewportSize(was);
  return { scroll: scroll!, width: width! };
}

/** Waits until the explorer's #results shows the results of the search `q` (its data-query). */
export async function resultsShownFor(page: Page, q: string): Promise<void> {
  // (Browser globals, typed by hand: the test build has no DOM library.)
  type Doc = { document: { getElementById(id: string): { dataset: Record<string, string | undefined> } | null } };
  await page.waitForFunction((q) => (globalThis as unknown as Doc).document.getElementById('results')?.dataset['query'] === q, q);
}
