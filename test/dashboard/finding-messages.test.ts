import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../jobs/ingest-files.ts';
import { catalogues } from '../../schema/messages/index.ts';
import { rows } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { BROWSER_TESTS, launchBrowser, openDashboard, SCREENSHOTS } from '../helpers/browser.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The Japanese dashboard reads a finding in Japanese: its title, the labels of its evidence and its
// history come from the catalogues in Japanese, with no English of Tally's in the card (what the
// registry wrote, a project's name or a beneficiary, stays as written). The finding is a real one:
// SocialCarbon's retirements hold one unit retired by two records.

const sample = (name: string) => new URL(`../fixtures/registry-samples/socialcarbon/${name}`, import.meta.url).pathname;

describe.skipIf(!BROWSER_TESTS)('a finding in the Japanese dashboard', () => {
  let t: TestDatabase;
  let api: Awaited<ReturnType<typeof startApi>>;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    t = await openTestDatabase();
    await ingestFiles(t.handle.db, ['projects.json', 'issuances.json', 'retirements-page1.json', 'retirements-page2.json', 'cancellations.json'].map(sample));
    api = await startApi(t.handle);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await t?.close();
  });

  it('when the dashboard is in Japanese, then the finding card\'s title, evidence labels and history are Japanese, with no English fallback', async () => {
    const [finding] = await rows<{ id: number }>(t.handle.db, sql`select id::float8 as id from findings where kind = 'retired-twice'`);
    const { page, errors } = await openDashboard(browser, `${api.url}/#/findings/${finding!.id}`, { locale: 'ja' });
    const card = page.getByTestId('finding').filter({ hasText: '二重' }).first();
    await card.locator('summary').click();

    const title = (await card.locator('h3').textContent())!;
    expect(title).toMatch(/の 1 ユニット（26–26）が二重に無効化されています（\d{4}-\d\d-\d\d、\d{4}-\d\d-\d\d）$/);
    const badges = await card.locator('.badge').allTextContents();
    expect(badges).toEqual(['高', '二重無効化', '未対応']);

    const jaLabels = new Set(Object.entries(catalogues.ja).filter(([k]) => k.startsWith('evidence.')).map(([, v]) => v));
    const enOnly = Object.entries(catalogues.en).filter(([k, v]) => k.startsWith('evidence.') && v !== catalogues.ja[k as keyof typeof catalogues.ja]).map(([, v]) => v);
    const labels = await card.locator('dl.evidence dt').allTextContents();
    expect(labels.length).toBeGreaterThan(10);
    expect(labels.filter((l) => !jaLabels.has(l))).toEqual([]);
    expect(labels).toEqual(expect.arrayContaining(['番号空間', '重複', 'ブロック', 'ステータス', '出典の記録']));
    expect(await card.locator('dl.evidence dd').allTextContents()).toContain('無効化済み');
    expect(await card.getByTestId('finding-history').textContent()).toMatch(/新規 → 未対応（検出）/);

    // No English word of Tally's anywhere in the card: not its interface, not an evidence label or key, not a status.
    // What the registry wrote (retirement details, beneficiaries, project names) is taken out first: it stays as written.
    const [stored] = await rows<{ evidence: Record<string, unknown> }>(t.handle.db, sql`select evidence from findings where id = ${finding!.id}`);
    const registryWords: string[] = [];
    const collect = (value: unknown, key = ''): void => {
      if (typeof value === 'string' && ['details', 'reason', 'beneficiary', 'name', 'projectName'].includes(key)) registryWords.push(value);
      else if (Array.isArray(value)) value.forEach((v) => collect(v, key));
      else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => collect(v, k));
    };
    collect(stored!.evidence);
    registryWords.push(...await card.locator('p a').allTextContents());
    const text = registryWords.reduce((rest, words) => rest.split(words).join(' '), await card.innerText());
    for (const english of ['Evidence', 'Tonnes at risk', 'first seen', 'Open', 'found', 'Retired', 'retired', 'units', 'numberSpace', 'overlap', 'statusDate', ...enOnly]) {
      expect(text.includes(english), english).toBe(false);
    }
    await card.screenshot({ path: `${SCREENSHOTS}finding-card-ja.png` });
    expect(text).toContain('リスク対象量');
    expect(text).toContain('1 t-CO2e');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
