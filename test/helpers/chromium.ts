// Launches Debian's real Chromium (headless) through playwright-core for the tests that drive the
// browser inspector, watches its pages for errors and requests, and reads the inspector's
// tables. When Chromium is not installed, `chromiumSkipReason()` says why so the caller can skip
// clearly (scripts/ensure-test-deps.mjs installs it on CI).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.LDCACHE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM_PATH)) {
    return `${CHROMIUM_PATH} is missing (install Debian's chromium, e.g. node scripts/ensure-test-deps.mjs)`;
  }
  return undefined;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface PageWatch {
  /** Console messages of type error, uncaught page errors and CSP violations. */
  readonly errors: string[];
  /** URLs of every request whose scheme is not file:, data: or blob: (besides `allowedOrigin`). */
  readonly network: string[];
}

/**
 * A fresh context and page that record console errors, page errors, CSP violations and any
 * request that leaves the page (`allowedOrigin`: the one http origin the page itself is served from).
 */
export async function openWatchedPage(
  browser: Browser,
  options: { colorScheme?: 'light' | 'dark'; allowedOrigin?: string; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({
    colorScheme: options.colorScheme ?? 'light',
    viewport: options.viewport ?? { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const watch: PageWatch = { errors: [], network: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watch.errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => watch.errors.push(`pageerror: ${error.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (/^(file|data|blob):/.test(url)) return;
    if (options.allowedOrigin && url.startsWith(`${options.allowedOrigin}/`)) return;
    watch.network.push(url);
  });
  // CSP violations are reported as console errors too; this also catches ones without a message.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return { context, page, watch };
}

/** Chooses files in the inspector's file input and waits until the page is ready or shows an error. */
export async function chooseFiles(page: Page, files: string | string[]): Promise<void> {
  await page.setInputFiles('#file-input', files);
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error');
}

export interface RenderedRow {
  /** Position in the table's current order (file order when unsorted and unfiltered). */
  position: number;
  cells: string[];
  nvidia: string | null;
}

/** The data rows an inspector table (by data-testid) has in the DOM: only the visible ones. */
export async function renderedRows(page: Page, table = 'entries-grid'): Promise<RenderedRow[]> {
  return page.$$eval(`[data-testid="${table}"] tbody tr`, (rows) =>
    rows.map((row) => ({
      position: Number(row.getAttribute('aria-rowindex')) - 2,
      cells: [...row.children].map((cell) => cell.textContent ?? ''),
      nvidia: row.getAttribute('data-nvidia'),
    })),
  );
}

export type { Browser, BrowserContext, Page };
