import { sql } from 'drizzle-orm';
import { excelSerialDate } from '../../connectors/runtime/xlsx.ts';
import { dateValue } from '../../connectors/runtime/values.ts';
import { bigintArray, rows, textArray, type Database } from '../../schema/database.ts';
import {
  issuanceEvidence, issuancePeriods, linkEvidence, linksOf, overlappingIssuances, privacyOf, projectEvidence, projectFacts,
  type IssuancePeriod, type ProjectFacts,
} from './evidence.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 4 (DESIGN §6): CDM → VCS / GS / A6.4 overlap. A CDM activity that also issues in another
// programme (Verra's "Units Transferred from Approved GHG Program", Gold Standard's CER-backed
// issuances, an A6.4 transition) may do so only for periods the CDM did not credit, or after cancelling
// the CERs it converts. CERs and other units issued for the same period, beyond the CERs cancelled,
// are the same tonnes twice. CDM activities that transitioned to A6.4 issue from 2021-01-01, after
// their CER periods. Sources: reference/registries.md §6.2 "CDM → VCS/GS/A6.4"; ICVCM CCP 8; CORSIA EUC
// "only counted once"; decision 3/CMA.3 annex ¶73–75 (transition of CDM activities).
//
// Tonnes at risk: the overlapping CERs less the CERs cancelled for those periods (voluntarily, or for
// conversion; a cancellation whose vintage is unknown counts for any period), capped by what the other
// programme issued over the overlap.
//
// - The CDM registry publishes no monitoring periods: the periods CERs cover come from the UNEP-CCC
//   pipeline's "CDM Issuance" rows (kept as received, stream `pipeline-issuances`), paired here with the
//   registry's issuances of the same project, commitment period and quantity, in date order (a project
//   that issued one quantity twice is paired by its dates). An issuance with no pipeline row covers no
//   known days and is left out (connectors/cdm/README.md, "Monitoring periods").
// - Units the other programme carries in the CDM's own numbering (Gold Standard's CER rows, Kyoto
//   serials in a `cdm:` number space) are the CDM's CERs, not a second issuance: they are set aside and
//   named in the evidence.

type Cancelled = { project_id: number; serial: string; quantity: number; status: string; date: string | null; start: string | null; end: string | null };

/** A pipeline date as the raw record keeps it: `2013-03-15`, a timestamp, or an Excel serial number. */
const dateOf = (text: string | undefined): string | undefined => {
  if (!text) return undefined;
  try {
    return excelSerialDate(text) ?? dateValue(text);
  } catch {
    return undefined;
  }
};

type PipelineRow = { raw: number; project: string; cp: string; quantity: number; issuedOn: string; start?: string; end?: string; process: string };

/**
 * Periods of CDM registry issuances that carry none themselves, from the pipeline's "CDM Issuance" rows:
 * each issuance (`CP<n> <unit> <start>-<end>`) paired with a pipeline row of its project, commitment
 * period and quantity, the n-th issued with the n-th decided.
 */
export async function cdmPipelinePeriods(db: Database, facts: Map<number, ProjectFacts>, cdmIds: number[]): Promise<Map<number, IssuancePeriod[]>> {
  const byProject = new Map<number, IssuancePeriod[]>();
  if (cdmIds.length === 0) return byProject;
  const issued = await rows<{ id: number; project_id: number; key: string; quantity: number; issued_on: string | null; credit_type: string | null }>(db, sql`
    select id::float8 as id, project_id::float8 as project_id, issuance_key as key, quantity::float8 as quantity, issued_on::text as issued_on, credit_type
    from issuances where project_id = any(${bigintArray(cdmIds)}) and vintage_start is null and vintage_year is null and issuance_key ~ '^CP[12] '
    order by project_id, issued_on, id`);
  if (issued.length === 0) return byProject;
  const names = [...new Set(issued.map((i) => facts.get(i.project_id)?.registryProjectId).filter((n): n is string => n !== undefined))];
  const raw = await rows<{ id: number; payload: Record<string, string> }>(db, sql`select id::float8 as id, payload from raw_records
    where registry_id = 'cdm' and stream = 'pipeline-issuances' and not is_private
      and (payload->>'HostParty') || '-' || regexp_replace(regexp_replace(payload->>'CDM project reference number', '[.]0+$', ''), '^0+', '') = any(${textArray(names)})
    order by id desc`);
  // The newest copy of each pipeline row (a later pipeline release may restate it).
  const rowsByKey = new Map<string, PipelineRow>();
  for (const r of raw) {
    const p = r.payload;
    const ref = String(Number(String(p['CDM project reference number'] ?? '').replace(/\.0+$/, '')));
    const cp = String(p.CP ?? '').replace(/\.0+$/, '');
    const quantity = Number(String(p['Units - Total'] ?? '').replace(/,/g, ''));
    const issuedOn = dateOf(p['Issuance date']);
    if (!issuedOn || !Number.isFinite(quantity)) continue;
    const row: PipelineRow = {
      raw: r.id, project: `${p.HostParty}-${ref}`, cp, quantity, issuedOn, start: dateOf(p['Monitoring report started']), end: dateOf(p['Monitoring report ended']),
      process: String(p['Issuance process ID'] ?? ''),
    };
    const identity = `${row.project}|${row.cp}|${row.process}|${row.quantity}`;
    if (!rowsByKey.has(identity)) rowsByKey.set(identity, row);
  }
  const groups = new Map<string, PipelineRow[]>();
  for (const row of rowsByKey.values()) {
    const k = `${row.project}|${row.cp}|${row.quantity}`;
    groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  for (const list of groups.values()) list.sort((a, b) => a.issuedOn.localeCompare(b.issuedOn) || a.raw - b.raw);
  const taken = new Map<string, number>();
  for (const i of issued) {
    const project = facts.get(i.project_id)?.registryProjectId;
    const cp = /^CP([12]) /.exec(i.key)?.[1];
    if (!project || !cp) continue;
    const k = `${project}|${cp}|${i.quantity}`;
    const n = taken.get(k) ?? 0;
    const match = groups.get(k)?.[n];
    taken.set(k, n + 1);
    if (!match?.start || !match.end) continue;
    const period: IssuancePeriod = {
      id: i.id, projectId: i.project_id, key: i.key, quantity: i.quantity, start: match.start, end: match.end, vintageYear: null,
      issuedOn: i.issued_on, creditType: i.credit_type, fromBlock: false,
    };
    byProject.set(i.project_id, [...(byProject.get(i.project_id) ?? []), period]);
  }
  return byProject;
}

/** The issuances and blocks among `periods` numbered in a Kyoto number space: CDM units another registry carries. */
async function kyotoNumbered(db: Database, periods: IssuancePeriod[]): Promise<Set<string>> {
  const issuanceIds = periods.filter((p) => !p.fromBlock).map((p) => p.id);
  const blockIds = periods.filter((p) => p.fromBlock).map((p) => p.id);
  const found = issuanceIds.length + blockIds.length === 0 ? [] : await rows<{ kind: string; id: number }>(db, sql`
    select 'issuance' as kind, id::float8 as id from issuances where id = any(${bigintArray(issuanceIds)}) and number_space like 'cdm:%'
    union all select 'block', id::float8 from unit_blocks where id = any(${bigintArray(blockIds)}) and number_space like 'cdm:%'`);
  return new Set(found.map((f) => `${f.kind}:${f.id}`));
}

export async function findCdmOverlaps({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  if (scope && scope.projectIds.length === 0) return [];
  const links = (await linksOf(db, scope?.projectIds, ['same-activity', 'converted-to', 'transitioned-from']))
    .filter((l) => (l.from_registry === 'cdm') !== (l.to_registry === 'cdm'));
  // One finding per CDM activity and project, whichever way and however many times they are linked.
  const pairs = new Map<string, { cdm: number; other: number; link: (typeof links)[number] }>();
  for (const l of links) {
    const [cdm, other] = l.from_registry === 'cdm' ? [l.from_id, l.to_id] : [l.to_id, l.from_id];
    const key = `${cdm}-${other}`;
    if (!pairs.has(key) || pairs.get(key)!.link.source === 'inferred') pairs.set(key, { cdm, other, link: l });
  }
  const cdmIds = [...new Set([...pairs.values()].map((p) => p.cdm))];
  const ids = [...pairs.values()].flatMap((p) => [p.cdm, p.other]);
  const [facts, periods] = await Promise.all([projectFacts(db, ids), issuancePeriods(db, ids)]);
  const pipeline = await cdmPipelinePeriods(db, facts, cdmIds);
  for (const [id, list] of pipeline) periods.set(id, [...(periods.get(id) ?? []), ...list].sort((a, b) => a.start.localeCompare(b.start) || a.id - b.id));
  const otherPeriods = [...pairs.values()].flatMap((p) => periods.get(p.other) ?? []);
  const carried = await kyotoNumbered(db, otherPeriods);
  const isCarried = (i: IssuancePeriod) => carried.has(`${i.fromBlock ? 'block' : 'issuance'}:${i.id}`);
  const cancelled = cdmIds.length === 0 ? [] : await rows<Cancelled>(db, sql`select project_id::float8 as project_id, block_key as serial,
      quantity::float8 as quantity, status::text as status, status_date::text as date,
      coalesce(vintage_start, make_date(vintage_year, 1, 1))::text as start, coalesce(vintage_end, make_date(vintage_year, 12, 31))::text as "end"
    from unit_blocks where project_id = any(${bigintArray(cdmIds)}) and status in ('cancelled', 'exported') and superseded_in_batch_id is null
    order by id`);
  return [...pairs.values()].flatMap(({ cdm, other, link }) => {
    const all = periods.get(other) ?? [];
    const overlap = overlappingIssuances(periods.get(cdm) ?? [], all.filter((i) => !isCarried(i)));
    if (!overlap) return [];
    const cancellations = cancelled.filter((b) => b.project_id === cdm && (b.start === null || (b.start <= overlap.to && overlap.from <= b.end!)));
    const cancelledTonnes = cancellations.reduce((s, b) => s + b.quantity, 0);
    const uncancelled = overlap.aTonnes - cancelledTonnes;
    const tonnes = Math.min(uncancelled, overlap.bTonnes);
    if (tonnes <= 0) return [];
    const c = facts.get(cdm)!;
    const o = facts.get(other)!;
    const inferred = link.source === 'inferred';
    const carriedCers = all.filter(isCarried);
    return [{
      kind: 'cdm-overlap' as const,
      severity: inferred ? 'medium' as const : 'high' as const,
      title: msg('finding.cdm-overlap', { cdm: c.registryProjectId, other: o.key, from: overlap.from, to: overlap.to }),
      tonnesAtRisk: tonnes,
      evidence: {
        link: linkEvidence(link),
        period: { from: overlap.from, to: overlap.to },
        cdm: { ...projectEvidence(c), issuances: overlap.a.map(issuanceEvidence), tonnes: overlap.aTonnes },
        other: { ...projectEvidence(o), issuances: overlap.b.map(issuanceEvidence), tonnes: overlap.bTonnes },
        cersCancelled: { tonnes: cancelledTonnes, blocks: cancellations.map(({ serial, quantity, status, date }) => ({ serial, quantity, status, date })) },
        ...(carriedCers.length > 0 ? { cersCarriedByOther: { tonnes: carriedCers.reduce((s, i) => s + i.quantity, 0), items: carriedCers.map(issuanceEvidence) } } : {}),
      },
      subjects: [{ projectId: c.id }, { projectId: o.id }, ...[...overlap.a, ...overlap.b].map((i) => (i.fromBlock ? { blockId: i.id } : { issuanceId: i.id }))],
      identity: [c.key, o.key],
      restsOnInferredLink: inferred,
      ...privacyOf(c, o),
    }];
  });
}
