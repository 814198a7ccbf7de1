import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

// Browser tests drive the system's Chromium (Debian's `chromium`) through playwright-core; no browser is
// downloaded. Without Chromium they are skipped, unless TALLY_BROWSER_TESTS=required (CI), where its
// absence fails them.

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
export const BROWSER_REQUIRED = process.env.TALLY_BROWSER_TESTS === 'required';
/** Whether the browser tests run: Chromium is here, or they are required (and fail without it). */
export const BROWSER_TESTS = CHROMIUM !== undefined || BROWSER_REQUIRED;
export const SCREENSHOTS = new URL('../artifacts/screenshots/', import.meta.url).pathname;

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('TALLY_BROWSER_TESTS=required, and there is no Chromium: apt-get install chromium fonts-noto-cjk');
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

export type DashboardOptions = { locale?: 'en' | 'ja'; key?: string; width?: number };

/**
 * A page of the dashboard at `url` in a fresh context, loaded and done loading (no status line left),
 * with its console errors collected. The starting language and key are set once: what the page itself
 * stores later must survive a reload.
 */
export async function openDashboard(browser: Browser, url: string, options: DashboardOptions = {}): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, locale: options.locale === 'ja' ? 'ja-JP' : 'en-US' });
  await context.addInitScript(([locale, key]) => {
    if (sessionStorage.getItem('tally.test.started')) return;
    sessionStorage.setItem('tally.test.started', '1');
    localStorage.setItem('tally.locale', locale!);
    if (key) localStorage.setItem('tally.apiKey', key);
  }, [options.locale ?? 'en', options.key ?? ''] as const);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.querySelector('[role="status"]'));
  return { page, errors };
}
