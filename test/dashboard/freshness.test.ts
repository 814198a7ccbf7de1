import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSchedules } from '../../jobs/freshness.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { syncSource } from '../../jobs/sync.ts';
import { startApi } from '../helpers/api.ts';
import { BROWSER_TESTS, launchBrowser, openDashboard, SCREENSHOTS } from '../helpers/browser.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { platformSearch, type Entity } from '../helpers/platform-emulator.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

// The Sources page's freshness in a real browser (as test/dashboard/browser.test.ts runs it), in English
// and Japanese, with a screenshot of each under test/artifacts/screenshots/. Plan Vivo is scheduled and
// was just pulled twice from a local server serving the captured entities, the second time without one
// holding (fresh, flagged as smaller); SocialCarbon is scheduled and its only pull failed (stale); ARB
// is only uploaded (not scheduled).

const capture = (name: string) => (JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as { entities: Entity[] }).entities;
const captured = { project: capture('planvivo-projects.json'), issuances: capture('planvivo-issuances.json'), holdings: capture('planvivo-holdings.json') };

describe.skipIf(!BROWSER_TESTS)('the Sources page\'s freshness in a browser', () => {
  let t: TestDatabase;
  let server: ReplayServer;
  let api: Awaited<ReturnType<typeof startApi>>;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    t = await openTestDatabase();
    const { db } = t.handle;
    let served = captured;
    server = await startReplayServer([
      ...['project', 'issuances', 'holdings'].map((resource) => ({
        method: 'POST', path: `/es/public/${resource}/publicReportPageSearch`, responses: [(req: Parameters<ReturnType<typeof platformSearch>>[0]) => platformSearch(served, { window: 10_000, knownFilters: [] })(req)],
      })),
      { path: '/api/1.1/obj/project', responses: [{ status: 503, body: 'Service Unavailable' }] },
    ]);
    await recordSchedules(db, [{ registry: 'plan-vivo', schedule: '0 3 * * *' }, { registry: 'socialcarbon', schedule: '0 4 * * *' }]);
    const http = { minIntervalMs: 0, baseDelayMs: 1, retries: 1, timeoutMs: 5_000 };
    await syncSource(db, 'plan-vivo', { config: { baseUrl: `${server.url}/es/public`, ...http } });
    served = { ...captured, holdings: captured.holdings.slice(1) };
    await syncSource(db, 'plan-vivo', { config: { baseUrl: `${server.url}/es/public`, ...http } });
    await expect(syncSource(db, 'socialcarbon', { config: { baseUrl: `${server.url}/api/1.1`, ...http } })).rejects.toThrow();
    await ingestFile(db, new URL('../fixtures/registry-samples/arb/nc-arboc_issuance_sheet3.csv', import.meta.url).pathname);
    api = await startApi(t.handle);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await server?.close();
    await t?.close();
  });

  const expected = {
    en: { fresh: 'Fresh', stale: 'Stale', unscheduled: 'Not scheduled', shrank: 'Smaller than the pull before', missing: 'No longer listed, though earlier pulls listed them (1)' },
    ja: { fresh: '最新', stale: '停滞', unscheduled: '定期取得なし', shrank: '前回の取得より減少', missing: '以前の取得にあり今回の取得にない記録（1 件）' },
  } as const;

  for (const locale of ['en', 'ja'] as const) {
    it(`${locale}: each source's status is a coloured word, with a shrinking pull and its missing records beneath it`, async () => {
      const words = expected[locale];
      const { page, errors } = await openDashboard(browser, `${api.url}/#/sources`, { locale });
      const status = (registry: string) => page.locator(`[data-testid="sources"] tr[data-registry="${registry}"] .freshness`);
      expect(await status('plan-vivo').textContent()).toBe(words.fresh);
      expect(await status('socialcarbon').textContent()).toBe(words.stale);
      expect(await status('arb').textContent()).toBe(words.unscheduled);
      // A registry with no schedule and no batch has nothing to say.
      expect(await status('verra').count()).toBe(0);
      // The colour says it too: the stylesheet's good, bad and plain.
      const colour = (registry: string) => status(registry).evaluate((e) => getComputedStyle(e).backgroundColor);
      expect(await colour('plan-vivo')).toBe('rgb(30, 123, 74)');
      expect(await colour('socialcarbon')).toBe('rgb(179, 38, 30)');
      const planVivo = (await page.locator('[data-testid="sources"] tr[data-registry="plan-vivo"]').textContent()) ?? '';
      expect(planVivo).toContain(words.shrank);
      expect(planVivo).toContain(words.missing);
      expect(planVivo).toContain(String(captured.holdings[0]!.serialNo));
      await page.screenshot({ path: `${SCREENSHOTS}${locale}-sources-freshness.png`, fullPage: true });
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }
});
