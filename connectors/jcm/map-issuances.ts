import type { CanonicalInput, EventRecord, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { countryByCode, resolveCountry } from '../../schema/taxonomy/index.ts';
import type { FileFormat, Mapped, RowError } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { dateValue, ValueError } from '../runtime/values.ts';
import { readReference } from './reference.ts';

// JCM issuances (reference registries.md §4): jcm.go.jp's issuance table per partner
// (/jc/{cc}-projects-issues) gives, per project and monitoring period, the Joint Committee's decision
// to notify the issuance and the total notified, then one row per country allocation (the partner and
// Japan), each with its notified amount, issuance date and issued amount. The CSV is the Mongolia table
// as a public parser derived it (create-to-solve/carbon-registry-intelligence-db): one row per
// monitoring period × allocation. Decisions:
// - each allocation is an issuance of its own: into the partner's registry, or into Japan's JCM
//   registry; the key is `<monitoring period>:<allocation's ISO code>:<issuance date>`;
// - JCM is an Article 6.2 cooperative approach: credits allocated to Japan cross from the host Party
//   to Japan when they are issued, a first transfer of the host Party (decision 2/CMA.3 annex
//   para 2(b)). Each Japan allocation also yields a `first-transferred` event, from the host to JPN,
//   which integrity rule 8 (jobs/integrity/ca-unreported-first-transfer.ts) compares with the host's
//   AEF;
// - notified but not issued: an allocation whose issuance date is empty or `N/A` (and whose issued
//   amount is empty or 0) has been notified by the Joint Committee but not issued. It is no issuance:
//   the row keeps its project and raw record and is reported as a warning (`notified-not-issued`), so
//   issued totals count only credits issued;
// - `total_notified` is the project's total over all its periods and allocations (MN004: 53,764 =
//   1,789 + 7,158 + 8,963 + 35,854), not the period's; kept in the raw record only;
// - the derived table drops rows: for MN001 and MN002 a Japan allocation issued in November 2018 sits
//   under the 2018–2020 period decided in January 2026, and the partner's share of that period is
//   missing (MN002: notified 637, rows add up to 595). An issuance dated before its period ends or
//   before the decision to notify it cannot belong to that row's period: it is kept (quantity and date
//   are its own) without a monitoring period, with a warning (`period-not-this-issuance`).

export const I = {
  title: 'project_title',
  ref: 'reference_no',
  period: 'monitoring_period_raw',
  decidedRaw: 'decision_date_raw',
  country: 'country',
  notified: 'notified_amount',
  issuedRaw: 'issuance_date_raw',
  issued: 'issued_amount',
} as const;

const JAPAN = countryByCode('JP')!;

/** `06 Jul 19 - 31 Dec 20` → its first and last day. */
function readPeriod(value: string | undefined, fail: (code: string, message: string) => void): { start: string; end: string } | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const parts = text.split(/\s+-\s+/);
  try {
    const [start, end] = parts.map((p) => dateValue(p)) as [string | undefined, string | undefined];
    if (parts.length !== 2 || !start || !end) throw new ValueError('', 'bad-period');
    if (end < start) {
      fail('period-order', `"${text}": the period ends before it starts`);
      return undefined;
    }
    return { start, end };
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    fail('bad-period', `"${text}" is not a monitoring period (expected "06 Jul 19 - 31 Dec 20")`);
    return undefined;
  }
}

export const jcmIssuances: FileFormat = {
  id: 'jcm-issuances',
  registry: 'jcm',
  stream: 'issuances',
  description: 'JCM issuance table (jcm.go.jp {cc}-projects-issues as derived CSV: reference_no, monitoring_period_raw, decision_date_raw, country, notified_amount, issuance_date_raw, issued_amount, …)',
  generation: 'JCM issuance table as derived from jcm.go.jp (Mongolia, 2026)',
  // `total_notified` (the project's total over every period) stays in the raw record.
  columns: {
    [I.ref]: { required: true },
    [I.period]: { required: true },
    [I.country]: { required: true },
    [I.issuedRaw]: { required: true },
    [I.issued]: { required: true },
    [I.title]: {},
    [I.decidedRaw]: {},
    [I.notified]: {},
  },
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const reference = readReference(r, I.ref);
    const title = r.text(I.title);
    const period = readPeriod(row[I.period], (code, message) => r.fail(I.period, code, message));
    const decidedOn = r.date(I.decidedRaw);
    const allocationText = r.required(I.country, r.text(I.country));
    const allocation = resolveCountry(allocationText);
    if (allocationText && reference && allocation?.code !== JAPAN.code && allocation?.code !== reference.host.code) {
      r.fail(I.country, 'unknown-allocation', `"${allocationText}" is neither Japan nor ${reference.host.en}, the partner country of ${reference.ref}`);
    }
    const notified = r.number(I.notified);
    if (notified !== undefined && notified < 0) r.fail(I.notified, 'quantity-negative', `${notified} is negative`);
    const issuedOn = r.date(I.issuedRaw);
    const issued = r.number(I.issued);
    if (issued !== undefined && issued < 0) r.fail(I.issued, 'quantity-negative', `${issued} is negative`);
    if (!issuedOn && issued !== undefined && issued > 0) r.fail(I.issuedRaw, 'missing', `is empty but ${issued} credits are issued`);
    if (issuedOn && !issued && !r.errors.some((e) => e.field === I.issued)) r.fail(I.issued, 'missing', `no issued amount for the issuance of ${issuedOn}`);
    if (r.errors.length > 0 || !reference || !period || !allocation) return { records: [], errors: r.errors };

    const project: ProjectRecord = {
      type: 'project', registry: 'jcm', registryProjectId: reference.ref,
      ...(title ? { name: title } : { name: `JCM ${reference.ref}`, nameIsIdentifier: true }),
      country: reference.host.code, eligibility: [], coBenefits: [],
    };
    const warnings: RowError[] = [];
    if (!issuedOn || !issued) {
      warnings.push({ locator, field: I.issuedRaw, code: 'notified-not-issued',
        message: `${locator}: ${reference.ref} ${allocation.en} allocation for ${period.start}–${period.end}: ${notified ?? 0} notified${decidedOn ? ` on ${decidedOn}` : ''}, not issued (issuance date "${row[I.issuedRaw]?.trim() ?? ""}"); not counted as issued` });
      return { records: [project], errors: [], warnings };
    }
    if (issued !== notified) {
      warnings.push({ locator, field: I.issued, code: 'issued-not-notified', message: `${locator}: ${issued} issued where ${notified ?? 'nothing'} was notified` });
    }
    const ownPeriod = issuedOn >= period.end && (!decidedOn || issuedOn >= decidedOn);
    if (!ownPeriod) {
      warnings.push({ locator, field: I.period, code: 'period-not-this-issuance',
        message: `${locator}: issued on ${issuedOn}, before the period ${period.start}–${period.end} ends or the decision of ${decidedOn ?? '?'}: stored without a monitoring period` });
    }
    const issuanceKey = `${period.start}/${period.end}:${allocation.code}:${issuedOn}`;
    const issuance: IssuanceRecord = {
      type: 'issuance',
      registry: 'jcm',
      registryProjectId: reference.ref,
      issuanceKey,
      vintageStart: ownPeriod ? period.start : undefined,
      vintageEnd: ownPeriod ? period.end : undefined,
      issuedOn,
      quantity: issued,
      quantityFromBlocks: false,
      creditType: 'jcm-credit',
    };
    const records: CanonicalInput[] = [project, issuance];
    if (allocation.code === JAPAN.code) {
      const transfer: EventRecord = {
        type: 'event',
        registry: 'jcm',
        registryProjectId: reference.ref,
        kind: 'first-transferred',
        eventKey: `first-transferred:${reference.ref}:${issuanceKey}`,
        occurredOn: issuedOn,
        quantity: issued,
        issuanceKey,
        details: {
          firstTransferringParty: reference.host.alpha3,
          acquiringParty: JAPAN.alpha3,
          basis: 'JCM allocation to Japan',
          monitoringPeriod: ownPeriod ? { start: period.start, end: period.end } : null,
          decidedOn: decidedOn ?? null,
        },
      };
      records.push(transfer);
    }
    return { records, errors: [], warnings };
  },
};
