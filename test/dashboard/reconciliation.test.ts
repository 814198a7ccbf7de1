import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSamplesIfEmpty } from '../../jobs/samples.ts';
import { startApi } from '../helpers/api.ts';
import { BROWSER_TESTS, launchBrowser, openDashboard, SCREENSHOTS } from '../helpers/browser.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The Sources page's reconciliation in a real browser (as test/dashboard/browser.test.ts runs it), on
// the bundled samples, in English and Japanese, with a screenshot of each under test/artifacts/screenshots/.

describe.skipIf(!BROWSER_TESTS)('the Sources page\'s reconciliation in a browser', () => {
  let t: TestDatabase;
  let api: Awaited<ReturnType<typeof startApi>>;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    t = await openTestDatabase();
    await loadSamplesIfEmpty(t.handle.db);
    api = await startApi(t.handle);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await t?.close();
  });

  for (const [locale, heading, explained] of [['en', 'Reconciliation with the registries\' own figures', 'every difference explained'], ['ja', '各登録簿自身の数値との照合', '差はすべて説明済み']] as const) {
    it(`${locale}: each registry's stated totals are shown beside Tally's, every difference explained`, async () => {
      const { page, errors } = await openDashboard(browser, `${api.url}/#/sources`, { locale });
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
      await page.context().close();
    });
  }
});
