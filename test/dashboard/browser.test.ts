import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestCadtV2 } from '../../jobs/cadt-upload.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { loadSamplesIfEmpty } from '../../jobs/samples.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { BROWSER_TESTS, launchBrowser, openDashboard, SCREENSHOTS, type DashboardOptions } from '../helpers/browser.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { onceCountedIssuedByYear } from '../helpers/trends.ts';

// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against a server on
// the fixture ledger: the real samples, the §6.3 conversion case, and a private draft of organization A.
// Every page is loaded in English and Japanese at laptop width (and the overview at phone width) and
// saved as a screenshot under test/artifacts/screenshots/.

// Without Chromium the browser tests are skipped with one line saying how to run them, so `npm test`
// passes on a fresh machine; CI sets TALLY_BROWSER_TESTS=required and installs it, so they always run there.
if (!BROWSER_TESTS) console.warn('browser tests skipped: no Chromium found; to run them: apt-get install chromium fonts-noto-cjk');
const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;

const PAGES = [
  ['overview', ''], ['projects', '#/projects'], ['project', '#/project/verra:1528'], ['lookup', '#/lookup'], ['findings', '#/findings'],
  ['article6', '#/article6/GUY'], ['upload', '#/upload'], ['sources', '#/sources'], ['downloads', '#/downloads'],
] as const;

describe.skipIf(!BROWSER_TESTS)('dashboard in a browser', () => {
  let t: TestDatabase;
  let db: Database;
  let api: Awaited<ReturnType<typeof startApi>>;
  let browser: Browser;
  let publisherKey: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    t = await openTestDatabase();
    db = t.handle.db;
    await loadSamplesIfEmpty(db);
    for (const file of ['car-projects.csv', 'car-issuances.csv', 'verra-projects.json', 'verra-issuances.json']) await ingestFile(db, fixture(`integrity/${file}`));
    const [a] = await db.insert(organizations).values({ slug: 'vanuatu', name: 'Government of Vanuatu', country: 'VU' }).returning();
    publisherKey = (await createApiKey(db, { name: 'vanuatu registry', role: 'publisher', organizationId: a!.id })).key;
    // A's private record: an Article 6.4 mechanism project in CAD Trust v2 (the mechanism publishes through uploads).
    const a64 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'].map((f) => fixture(`cad-trust/${f}`));
    await ingestCadtV2(db, a64, { ownerOrganizationId: a!.id, isPrivate: true });
    api = await startApi(t.handle);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await t?.close();
  });

  const open = (hash: string, options: DashboardOptions = {}) => openDashboard(browser, `${api.url}/${hash}`, options);

  for (const locale of ['en', 'ja'] as const) {
    it.each(PAGES)(`${locale}: %s loads without console errors or error boxes`, async (name, hash) => {
      const { page, errors } = await open(hash, { locale });
      await page.screenshot({ path: `${SCREENSHOTS}${locale}-${name}.png`, fullPage: true });
      expect(errors).toEqual([]);
      expect(await page.locator('.error').count()).toBe(0);
      expect(await page.locator('h1').first().textContent()).toBeTruthy();
      await page.context().close();
    });
  }

  it('GraphiQL at /graphql loads its editor without console errors', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${api.url}/graphql`);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: `${SCREENSHOTS}graphiql.png` });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the overview\'s totals equal the API\'s trend totals', async () => {
    const { page } = await open('');
    const shown = Number(await page.getByTestId('total-issued').getAttribute('data-value'));
    const answer = await api.gql(`{ trends(groupBy: [REGISTRY]) { points { issued } } }`);
    const expected = answer.data!.trends.points.reduce((s: number, p: { issued: number }) => s + p.issued, 0);
    expect(shown).toBe(expected);
    // Each tonne once, at the registry that issued it last (worked out from the ledger's events).
    expect(shown).toBeCloseTo([...(await onceCountedIssuedByYear(db)).values()].reduce((s, q) => s + q, 0), 3);
    // Conversions out are a series of their own, and no chart has a bar below zero (the tables hold their figures).
    const converted = await api.gql(`{ trends(groupBy: [REGISTRY]) { points { convertedOut } } }`);
    expect(Number(await page.getByTestId('total-convertedOut').getAttribute('data-value')))
      .toBe(converted.data!.trends.points.reduce((s: number, p: { convertedOut: number }) => s + p.convertedOut, 0));
    expect(await page.getByTestId('chart-converted-out').locator('td.num').count()).toBeGreaterThan(0);
    const cells = await page.locator('figure.chart td.num').allTextContents();
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.filter((c) => /^\s*[-−]/.test(c))).toEqual([]);
    // Whole tonnes on the card (Isometric issues fractions of a tonne); the exact figure is its data-value.
    expect(await page.getByTestId('total-issued').textContent()).toContain(new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(expected));
    await page.context().close();
  });

  it("a J-Credit project shows its Japanese name and its expected credits, in Japanese", async () => {
    const [project] = await rows<{ key: string; name_ja: string; total: number }>(db, sql`select key, name_ja, estimated_total_quantity::float8 as total
      from projects where registry_id = 'j-credit' and estimated_total_quantity > 0 order by id limit 1`);
    const { page, errors } = await open(`#/project/${project!.key}`, { locale: 'ja' });
    expect(await page.locator('h1').textContent()).toContain(project!.name_ja);
    const facts = await page.locator('dl').first().textContent();
    expect(facts).toContain('認証見込み量（総量）');
    expect(facts).toContain(new Intl.NumberFormat('ja-JP', { maximumFractionDigits: 0 }).format(project!.total));
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a serial lookup shows the project and status the ledger holds', async () => {
    const [block] = await rows<{ serial: string; key: string; status: string }>(db, sql`select b.serial_raw as serial, p.key, b.status::text as status
      from unit_blocks b join projects p on p.id = b.project_id where b.registry_id = 'american-carbon-registry' and b.serial_raw is not null order by b.id limit 1`);
    const { page } = await open('#/lookup');
    await page.fill('#serial', block!.serial);
    await page.click('form.lookup button[type="submit"]');
    const card = page.getByTestId('provenance').first();
    await card.waitFor();
    expect(await card.textContent()).toContain(block!.key);
    const label = (await api.gql(`{ taxonomy { name terms { code label } } }`)).data!.taxonomy.find((v: { name: string }) => v.name === 'unitStatus')
      .terms.find((x: { code: string }) => x.code === block!.status).label;
    expect(await card.getByTestId('provenance-status').textContent()).toContain(label);
    await page.context().close();
  });

  it('a serial lookup of CDM units another registry lists shows the CDM\'s record and that registry\'s report of it, in both languages', async () => {
    const [mirror] = await rows<{ serial: string; source: string; project: string }>(db, sql`select serial_raw as serial, reported_by as source,
      registry_project_id as project from mirror_records where kind = 'units' and serial_raw is not null order by id limit 1`);
    expect(mirror).toBeDefined();
    const { page, errors } = await open(`#/lookup?serial=${encodeURIComponent(mirror!.serial)}`);
    const reports = page.getByTestId('mirror-reports');
    await reports.waitFor();
    expect(await reports.textContent()).toContain(mirror!.source);
    expect(await reports.getByTestId('mirror-match').first().textContent()).toContain(`Agrees with cdm (${mirror!.project})`);
    await page.getByRole('button', { name: '日本語' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="mirror-match"]')?.textContent?.includes('記録と一致'));
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('the language switch changes labels and number and date formats, and persists', async () => {
    const { page } = await open('#/lookup?serial=ACR-US-1185-2025-3078-5');
    await page.getByTestId('provenance').first().waitFor();
    const englishDate = await page.getByTestId('provenance-status').textContent();
    await page.getByRole('button', { name: '日本語' }).click();
    await page.waitForLoadState('networkidle');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'シリアル照会');
    expect(await page.locator('nav a').first().textContent()).toBe('概要');
    expect(await page.getByTestId('provenance-status').textContent()).not.toBe(englishDate);
    expect(await page.getByTestId('provenance-status').textContent()).toMatch(/\d{4}年\d{1,2}月\d{1,2}日/);
    await page.goto(`${api.url}/#/overview`);
    await page.reload();
    await page.waitForLoadState('networkidle');
    await page.waitForFunction(() => !document.querySelector('[role="status"]'));
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    expect(await page.getByTestId('total-issued').textContent()).toMatch(/[万億] t/);
    await page.context().close();
  });

  it('an upload with a bad row shows the row\'s error when checked, and nothing is stored', async () => {
    const [before] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches`);
    const { page } = await open('#/upload', { key: publisherKey });
    const bad = readFileSync(fixture('api/private-art-issuances.csv'), 'utf8').replace('9621384,535461,9085923', 'many,535461,9085923');
    await page.setInputFiles('input[type="file"]', { name: 'issuances.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.getByTestId('check-upload').click();
    const errorsTable = page.getByTestId('upload-errors');
    await errorsTable.waitFor();
    expect(await errorsTable.textContent()).toContain('line 2');
    expect(await errorsTable.textContent()).toContain('Total Emission Reductions/Removals');
    // A registry export's good rows would be stored, the bad one reported; the check itself kept nothing.
    expect(await page.getByTestId('upload-result').textContent()).toContain('Nothing is stored until you press Store');
    const [after] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches`);
    expect(after!.n).toBe(before!.n);
    await page.context().close();
  });

  it('a clean file is checked, then stored when the user confirms', async () => {
    const { page } = await open('#/upload', { key: publisherKey });
    const draft = readFileSync(fixture('api/private-art-projects.csv'), 'utf8').replace('ART9901', 'ART9903');
    await page.setInputFiles('input[type="file"]', { name: 'projects.csv', mimeType: 'text/csv', buffer: Buffer.from(draft) });
    await page.getByTestId('check-upload').click();
    await page.getByTestId('upload-result').waitFor();
    expect(await page.getByTestId('upload-result').textContent()).toContain('1 rows read');
    expect((await rows(db, sql`select 1 from mirror_records where project_ref = 'ART9903'`)).length).toBe(0);
    await page.getByTestId('store-upload').click();
    await page.getByText('Stored as batch').waitFor();
    // ART's own export from an organization: its private report of an ART project.
    expect((await rows(db, sql`select 1 from mirror_records where project_ref = 'ART9903' and is_private and reported_by = 'upload:vanuatu'`)).length).toBe(1);
    await page.context().close();
  });

  it('a private record does not appear when signed out, and does for its organization', async () => {
    const signedOut = await open('#/project/a64-mechanism:A6.4-PoA-10471');
    expect(await signedOut.page.locator('h1').textContent()).toBe('Project not found');
    await signedOut.page.context().close();
    const list = await open('#/projects?q=Cookstoves%20in%20Myanmar');
    expect(await list.page.getByTestId('project-count').textContent()).toBe('0 projects');
    await list.page.context().close();
    const signedIn = await open('#/project/a64-mechanism:A6.4-PoA-10471', { key: publisherKey });
    expect(await signedIn.page.locator('h1').textContent()).toContain('Installation of Energy Efficient Cookstoves in Myanmar');
    await signedIn.page.context().close();
  });

  it('a project page lists its tags with their sources, and the projects list filters by tag', async () => {
    // The organization's private Article 6.4 project: its Letter of Authorization label, and what it authorizes.
    const { page, errors } = await open('#/project/a64-mechanism:A6.4-PoA-10471', { key: publisherKey, locale: 'ja' });
    const table = await page.locator('table.tags').textContent();
    expect(table).toContain('CAD Trustラベル：承認レター（Letter of Authorization）');
    expect(table).toContain('cadt-label:letter-of-authorization');
    expect(table).toContain('パリ協定6条の承認済み（承認レター）');
    expect(errors).toEqual([]);
    await page.context().close();
    // The bundled Verra export states CORSIA's first phase for some projects: the list shows as many as the API counts.
    const expected = await api.gql<{ projects: { totalCount: number } }>('{ projects(filter: { tags: ["corsia:first-phase"] }) { totalCount } }');
    const count = expected.data!.projects.totalCount;
    expect(count).toBeGreaterThan(0);
    const list = await open('#/projects');
    await list.page.locator('form.filters label', { hasText: 'Tag' }).locator('select').selectOption('corsia:first-phase');
    await list.page.waitForFunction((n) => document.querySelector('[data-testid="project-count"]')?.textContent === `${n} projects`, count);
    await list.page.context().close();
  });

  it('the Downloads page lists each file with the rows the manifest counts, the organization\'s private rows only when signed in', async () => {
    const rowsShown = async (key?: string) => {
      const { page } = await open('#/downloads', { locale: 'ja', key });
      const cells = await page.getByTestId('download-files').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]));
      await page.context().close();
      return Object.fromEntries(cells.map(([name, n]) => [name, Number(n!.replace(/[^\d]/g, ''))]));
    };
    const manifest = async (key?: string) => (await (await fetch(`${api.url}/data/manifest.json`, { headers: key ? { authorization: `Bearer ${key}` } : {} })).json()) as { files: { name: string; rows: number }[] };
    const signedOut = await rowsShown();
    expect(signedOut).toEqual(Object.fromEntries((await manifest()).files.map((f) => [f.name, f.rows])));
    const signedIn = await rowsShown(publisherKey);
    expect(signedIn).toEqual(Object.fromEntries((await manifest(publisherKey)).files.map((f) => [f.name, f.rows])));
    expect(signedIn['credits.csv']).toBeGreaterThan(signedOut['credits.csv']!);
  });

  it.each(['overview', 'projects', 'lookup', 'findings'] as const)('at phone width, %s fits the screen', async (name) => {
    const hash = PAGES.find(([n]) => n === name)![1];
    const { page } = await open(hash, { width: 390 });
    await page.screenshot({ path: `${SCREENSHOTS}phone-${name}.png`, fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await page.context().close();
  });
});
