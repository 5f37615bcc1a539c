import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where the browser tests leave their screenshots for review (git-ignored), one folder per suite. */
export const SCREENSHOTS_ROOT = join(__dirname, '..', '..', 'test-results');

/**
 * Debian's chromium, driven by playwright-core (which never downloads a browser): `npm test`
 * provisions it (scripts/provision-browser.sh) and passes its path as CHROMIUM_PATH.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH;
  if (!executablePath) throw new Error('browser tests need CHROMIUM_PATH: run them with `npm test`, which installs Debian\'s chromium');
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 60_000 });
}

/** A page whose uncaught errors and Content-Security-Policy violations are collected for the test to assert on. */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  return { page, problems };
}

/** Saves a full-page screenshot as test-results/<suite>/<name>.png. */
export async function screenshot(page: Page, name: string, suite = 'portal'): Promise<void> {
  mkdirSync(join(SCREENSHOTS_ROOT, suite), { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS_ROOT, suite, `${name}.png`), fullPage: true });
}
