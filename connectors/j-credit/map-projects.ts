import type { ProjectRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped, RowContext, RowError, SourceRow } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { dateValue, ValueError } from '../runtime/values.ts';
import { methodologyCode, methodologyInfo, methodologyText } from './methodologies.ts';
import { projectClass, programmeOfNumber, registryProjectId, type ProjectClass } from './programmes.ts';
import { distinct, oneLine } from './text.ts';

// The J-Credit Scheme's registered-project list (登録プロジェクト一覧, https://japancredit.go.jp/project/,
// CC-BY-4.0; reference registries.md §4), in both forms it circulates in: the official workbook, one
// sheet per class (`【J-クレジット】一覧(通常型)` …), and the sheets merged into one CSV with the sheet's
// name in a `分類` column. The class comes from `分類`, else from the sheet's name. Quirks:
// - headers break inside the cell (`プロジェクト\r\n番号`, normalized to `プロジェクト 番号`);
// - a project with several methodologies is listed once per methodology, on consecutive rows with the
//   same number, each with its own summary, methodology and expected volume: the rows are one record
//   (FileFormat.group) and fold into one project with every methodology and the volumes summed;
// - project numbers: plain integers for J-Credit (numbered separately in the ordinary and the
//   programme-type sheet), `KC…`/`KCP…` for 国内クレジット and `JVR…` for J-VER projects, which go to
//   those programmes (programmes.ts);
// - dates `2013/10/8 0:00`, some without the time; `認証対象期間終了日` is `-` for projects with none
//   and once names two sites' end dates in one cell (`…平成の家：2029/3/31\r\n…観音の里：2025/3/31`):
//   the latest is kept, with a warning;
// - `認証見込み量（2050年度までの総量見込）` is the expected total to FY2050, not a yearly figure
//   (projects.estimated_total_quantity); decimals (`246.2`) in the legacy sheets;
// - no English: the registry gives the project only a Japanese summary (`プロジェクト概要`), which is
//   both `nameJa` and `name`. No English name is made up.
// - `登録申請日` is the date registration was applied for (the registering committee's date is not in
//   the list, only its number); it is stored as the registration date, the committee in `statusRaw`.

export const H = {
  number: 'プロジェクト 番号',
  appliedOn: '登録申請日',
  committee: '登録 認証委員会',
  implementer: 'プロジェクト実施者',
  summary: 'プロジェクト概要',
  place: 'プロジェクト実施場所',
  region: 'プロジェクト実施地域',
  methodology: '適用方法論',
  periodEnd: '認証対象期間終了日',
  expected: '認証見込み量 （2050年度までの総量見込） （t-CO2）',
  class: '分類',
} as const;

/** The class of a row: its `分類` cell, else the sheet it sits in. */
const classOf = (row: Record<string, string>, context: RowContext) => row[H.class]?.trim() || context.sheet;

/** `認証対象期間終了日`: one date, `-`, or several sites' dates in one cell (the latest is the project's). */
function periodEnd(value: string | undefined, fail: (code: string, message: string) => void, warn: (message: string) => void): string | undefined {
  const text = oneLine(value);
  if (!text) return undefined;
  const found = [...text.matchAll(/\d{4}\/\d{1,2}\/\d{1,2}/g)].map((m) => m[0]);
  let dates: string[];
  try {
    if (found.length < 2) return dateValue(text);
    dates = found.map((d) => dateValue(d)!);
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    fail(error.code, error.message);
    return undefined;
  }
  const latest = dates.sort().at(-1)!;
  warn(`"${text}" gives ${dates.length} end dates; the latest, ${latest}, is kept`);
  return latest;
}

type RowFacts = {
  cls: ProjectClass; id: string; number: string; appliedOn?: string; committee?: string; implementer?: string; summary?: string;
  place?: string; region?: string; methodology: string; periodEnd?: string; expected?: number;
};

function readRow(row: SourceRow, context: RowContext, errors: RowError[], warnings: RowError[]): RowFacts | undefined {
  const r = rowReader(row.values, row.locator);
  const number = r.required(H.number, oneLine(row.values[H.number]));
  const classText = classOf(row.values, context);
  // Legacy numbers say their programme themselves; plain numbers need the sheet or `分類`.
  const cls = projectClass(classText) ?? (classText ? undefined : fromNumber(number));
  if (!cls) {
    r.fail(H.class, 'unknown-class', classText
      ? `"${classText}" is not a class of the J-Credit list (【J-クレジット】一覧(通常型), 【J-クレジット】一覧(プログラム型), 【国内クレジット】…, 【J-VER】…)`
      : 'no 分類 column and no sheet name: cannot tell an ordinary (通常型) from a programme-type (プログラム型) J-Credit project');
  }
  const key = number && cls ? registryProjectId(number, cls) : undefined;
  if (key && 'error' in key) r.fail(H.number, 'bad-project-number', key.error);
  const methodology = r.required(H.methodology, oneLine(row.values[H.methodology]));
  const expected = r.number(H.expected);
  // A list without the column states no volume; one with it states one on every row.
  if (expected === undefined && row.values[H.expected] !== undefined && !r.errors.some((e) => e.field === H.expected)) r.fail(H.expected, 'missing', 'is empty');
  if (expected !== undefined && expected < 0) r.fail(H.expected, 'quantity-negative', `${expected} is negative`);
  const appliedOn = r.date(H.appliedOn);
  const end = periodEnd(row.values[H.periodEnd], (code, message) => r.fail(H.periodEnd, code, message),
    (message) => warnings.push({ locator: row.locator, field: H.periodEnd, code: 'several-end-dates', message: `${row.locator}: ${H.periodEnd}: ${message}` }));
  errors.push(...r.errors);
  if (r.errors.length > 0 || !number || !cls || !key || 'error' in key || !methodology) return undefined;
  return {
    cls, id: key.id, number, appliedOn, committee: oneLine(row.values[H.committee]), implementer: oneLine(row.values[H.implementer]),
    summary: oneLine(row.values[H.summary]), place: oneLine(row.values[H.place]), region: oneLine(row.values[H.region]),
    methodology, periodEnd: end, expected,
  };
}

function fromNumber(number: string | undefined): ProjectClass | undefined {
  const found = number ? programmeOfNumber(number.trim()) : undefined;
  if (!found) return undefined;
  const label = { 'japan-domestic-credit': '国内クレジット', 'j-ver': 'J-VER', 'j-credit': 'J-クレジット' }[found.programme];
  return { ...found, label: `【${label}】一覧(${found.programmeType ? 'プログラム型' : '通常型'})` };
}

/** One project from its rows (one per methodology). */
export function mapProjectRows(rows: SourceRow[], context: RowContext): Mapped {
  const errors: RowError[] = [];
  const warnings: RowError[] = [];
  const facts = rows.map((row) => readRow(row, context, errors, warnings));
  if (errors.length > 0) return { records: [], errors, warnings };
  const all = facts as RowFacts[];
  const first = all[0]!;
  const mismatch = all.find((f) => f.id !== first.id || f.cls.programme !== first.cls.programme);
  if (mismatch) throw new Error(`rows of one record name two projects (${first.id}, ${mismatch.id})`);
  const { programme } = first.cls;
  const summaries = distinct(all.map((f) => f.summary));
  const name = summaries.join(' / ');
  const places = distinct(all.map((f) => f.place));
  const regions = distinct(all.map((f) => f.region));
  const methodologies = distinct(all.map((f) => methodologyText(programme, f.methodology)));
  for (const f of all) {
    const info = methodologyInfo(programme, f.methodology);
    if (!info.jCreditCategory) {
      const locator = rows[all.indexOf(f)]!.locator;
      warnings.push({ locator, field: H.methodology, code: 'unknown-methodology', message: `${locator}: ${H.methodology}: "${methodologyCode(f.methodology)}" has no known J-Credit category; kept as written` });
    }
  }
  const dates = (pick: (f: RowFacts) => string | undefined) => distinct(all.map(pick)).sort();
  const committees = distinct(all.map((f) => f.committee));
  const project: ProjectRecord = {
    type: 'project',
    registry: programme,
    registryProjectId: first.id,
    // Without a summary the project is known by its class and number.
    ...(name ? { name, nameJa: name } : { name: `${first.cls.label} ${first.number}`, nameIsIdentifier: true }),
    proponent: distinct(all.map((f) => f.implementer)).join(' / ') || undefined,
    country: 'JP',
    region: distinct([regions.join('、') || undefined, places.join('、') || undefined]).join(' ') || undefined,
    methodology: methodologies.join('; '),
    status: 'registered',
    statusRaw: `${first.cls.label}${committees.length > 0 ? `、第${committees.join('・')}回認証委員会` : ''}`,
    registeredOn: dates((f) => f.appliedOn)[0],
    creditingPeriodEnd: dates((f) => f.periodEnd).at(-1),
    // Summed in thousandths: the legacy sheets give tenths (246.2) and a float sum would drift.
    estimatedTotalQuantity: all.every((f) => f.expected !== undefined)
      ? Math.round(all.reduce((s, f) => s + Math.round(f.expected! * 1000), 0)) / 1000 : undefined,
    eligibility: [],
    coBenefits: [],
  };
  return { records: [project], errors: [], warnings };
}

export const jCreditProjects: FileFormat = {
  id: 'j-credit-projects',
  registry: 'j-credit',
  stream: 'projects',
  description: 'J-Credit registered-project list (登録プロジェクト一覧): the workbook with one sheet per class, or its sheets merged into one CSV with a 分類 column',
  generation: '登録プロジェクト一覧 (japancredit.go.jp, 2024)',
  // A row is one methodology of one project: the number and the methodology make it. `分類` is in the
  // merged CSV only (the workbook names the class by its sheet); `クレジット取得予定者` is not read.
  columns: {
    [H.number]: { required: true },
    [H.methodology]: { required: true },
    [H.appliedOn]: {},
    [H.committee]: {},
    [H.implementer]: {},
    [H.summary]: {},
    [H.place]: {},
    [H.region]: {},
    [H.periodEnd]: {},
    [H.expected]: {},
    [H.class]: {},
  },
  map: (row, locator, context = {}) => mapProjectRows([{ values: row, locator }], context),
  group: {
    key: (row, context) => `${classOf(row, context) ?? ''}\u0000${row[H.number]?.trim() ?? ''}`,
    map: mapProjectRows,
  },
};
