import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSamplesIfEmpty } from '../../jobs/samples.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The Sources page's reconciliation in a real browser (as test/dashboard/browser.test.ts runs it), on
// the bundled samples, in English and Japanese, with a screenshot of each under test/artifacts/screenshots/.

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const REQUIRED = process.env.TALLY_BROWSER_TESTS === 'required';
const SCREENSHOTS = new URL('../artifacts/screenshots/', import.meta.url).pathname;

describe.skipIf(!CHROMIUM && !REQUIRED)('the Sources page\'s reconciliation in a browser', () => {
  let t: TestDatabase;
  let api: Awaited<ReturnType<typeof startApi>>;
  let browser: Browser;

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('TALLY_BROWSER_TESTS=required, and there is no Chromium: apt-get install chromium fonts-noto-cjk');
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await openTestDatabase();
    await loadSamplesIfEmpty(t.handle.db);
    api = await startApi(t.handle);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await t?.close();
  });

  for (const [locale, heading, explained] of [['en', 'Reconciliation with the registries\' own figures', 'every difference explained'], ['ja', '各登録簿自身の数値との照合', '差はすべて説明済み']] as const) {
    it(`${locale}: each registry's stated totals are shown beside Tally's, every difference explained`, async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: locale === 'ja' ? 'ja-JP' : 'en-US' });
      await context.addInitScript((l) => localStorage.setItem('tally.locale', l), locale);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${api.url}/#/sources`);
      await page.waitForLoadState('networkidle');
      await page.waitForFunction(() => !document.querySelector('[role="status"]'));
      const section = page.getByTestId('reconciliation');
      expect(await section.locator('h2').textContent()).toBe(heading);
      const text = (await section.textContent()) ?? '';
      // The CDM issuance report's Total row (91,314,317 t) beside the ledger's same figure.
      expect(text).toContain(new Intl.NumberFormat(locale === 'ja' ? 'ja-JP' : 'en-US').format(91_314_317));
      expect(text).toContain(explained);
      expect(await section.locator('h3').count()).toBeGreaterThanOrEqual(2);
      expect(await section.locator('tr.failed').count()).toBe(0);
      await page.screenshot({ path: `${SCREENSHOTS}${locale}-sources-reconciliation.png`, fullPage: true });
      expect(errors).toEqual([]);
      await context.close();
    });
  }
});
