// Launches Debian's real Chromium (headless) through playwright-core, for tests and benches that
// drive the browser inspector. When Chromium is not installed, `chromiumSkipReason()` says why so
// the caller can skip clearly (scripts/ensure-test-deps.mjs installs it on CI).
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

export type { Browser, BrowserContext, Page };
