import { sql } from 'drizzle-orm';
import { idRange } from '../../connectors/article6/aef.ts';
import { rows, type Database } from '../../schema/database.ts';

// The checks a Party can run on its own AEF before sending it (DESIGN §1; reference/registries.md §5.2,
// §5.3 gap types 2–4), over what Tally holds for it: per authorization, first transfers plus holdings
// never exceed the authorized quantity (the CA0004 invariant); no ITMO range is first-transferred
// twice; every range holds its quantity; and where the counterparty's AEF is in Tally too, each
// transfer has its mirror acquisition and each acquisition its transfer.

export type ConsistencyCheck = 'authorized-quantity' | 'first-transfer-once' | 'range-quantity' | 'mirror';
export type ConsistencyResult = {
  check: ConsistencyCheck;
  /** `not-applicable`: nothing to check (no counterparty data for mirrors). */
  outcome: 'pass' | 'fail' | 'not-applicable';
  problems: string[];
};

type ActionRow = {
  id: number; party: string; report_year: number | null; action_type: string; action_subtype: string | null; authorization_id: string | null;
  first_transferring_party_id: string | null; transferring_party_id: string | null; acquiring_party_id: string | null;
  itmo_first_id: string | null; itmo_last_id: string | null; quantity: number; action_date: string | null;
};
type HoldingRow = { party: string; snapshot_year: number; authorization_id: string | null; itmo_first_id: string | null; itmo_last_id: string | null; quantity: number };

const fmt = (n: number) => n.toLocaleString('en-US');
const describeRow = (a: ActionRow) => `${a.action_type}${a.action_subtype ? ` (${a.action_subtype})` : ''} ${a.itmo_first_id}…${a.itmo_last_id}, ${fmt(a.quantity)} t${a.action_date ? ` on ${a.action_date}` : ''}`;
const isFirstTransfer = (a: ActionRow) => /^first transfer/i.test(a.action_type);
const isTransfer = (a: ActionRow) => /^(first transfer|transfer)$/i.test(a.action_type.trim());
const isAcquisition = (a: ActionRow) => /^acquisition$/i.test(a.action_type.trim());

/**
 * Runs the checks for one Party (its AEF rows visible to `viewer`, the organization asking; public rows
 * and its own private ones), over the reporting years up to `reportYear` when given.
 */
export async function consistencyChecks(db: Database, party: string, options: { reportYear?: number; viewer?: number | null } = {}): Promise<ConsistencyResult[]> {
  const visible = sql`(not x.is_private or x.owner_organization_id is not distinct from ${options.viewer ?? null})`;
  const upTo = options.reportYear === undefined ? sql`true` : sql`coalesce(s.report_year, 0) <= ${options.reportYear}`;
  const actions = await rows<ActionRow>(db, sql`select x.id::float8 as id, x.party, s.report_year, x.action_type, x.action_subtype, x.authorization_id,
      x.first_transferring_party_id, x.transferring_party_id, x.acquiring_party_id, x.itmo_first_id, x.itmo_last_id,
      x.quantity_tco2::float8 as quantity, x.action_date::text as action_date
    from aef_actions x left join aef_submissions s on s.id = x.submission_id
    where ${visible} and ${upTo} order by x.action_date, x.id`);
  const own = actions.filter((a) => a.party === party);
  const holdings = await rows<HoldingRow>(db, sql`select x.party, x.snapshot_year, x.authorization_id, x.itmo_first_id, x.itmo_last_id,
      x.quantity_tco2::float8 as quantity
    from aef_holdings x where x.party = ${party} and ${visible} ${options.reportYear === undefined ? sql`` : sql`and x.snapshot_year <= ${options.reportYear}`}`);
  const authorizations = await rows<{ authorization_id: string; quantity: number }>(db, sql`select distinct on (x.authorization_id) x.authorization_id,
      x.quantity::float8 as quantity from aef_authorizations x where x.party = ${party} and ${visible} order by x.authorization_id, x.version desc`);

  // Holdings are a 31 December snapshot: only the latest year counts.
  const latest = Math.max(0, ...holdings.map((h) => h.snapshot_year));
  const held = holdings.filter((h) => h.snapshot_year === latest);
  const firstTransfers = own.filter((a) => isFirstTransfer(a) && (a.first_transferring_party_id ?? party) === party);

  const authorized: ConsistencyResult = { check: 'authorized-quantity', outcome: 'pass', problems: [] };
  for (const a of authorizations) {
    const transferred = firstTransfers.filter((t) => t.authorization_id === a.authorization_id).reduce((s, t) => s + t.quantity, 0);
    const kept = held.filter((h) => h.authorization_id === a.authorization_id).reduce((s, h) => s + h.quantity, 0);
    if (transferred + kept > a.quantity) {
      authorized.problems.push(`${a.authorization_id}: ${fmt(transferred)} first-transferred + ${fmt(kept)} held (${latest}) = ${fmt(transferred + kept)} > ${fmt(a.quantity)} authorized`);
    }
  }

  const once: ConsistencyResult = { check: 'first-transfer-once', outcome: 'pass', problems: [] };
  const ranged = firstTransfers.map((a) => ({ a, range: idRange(a.itmo_first_id, a.itmo_last_id) })).filter((x) => x.range !== undefined);
  ranged.sort((x, y) => (x.range!.prefix < y.range!.prefix ? -1 : x.range!.prefix > y.range!.prefix ? 1 : x.range!.start - y.range!.start));
  for (let i = 1; i < ranged.length; i += 1) {
    for (let j = i - 1; j >= 0 && ranged[j]!.range!.prefix === ranged[i]!.range!.prefix; j -= 1) {
      const [x, y] = [ranged[j]!, ranged[i]!];
      if (y.range!.start <= x.range!.end) {
        const from = Math.max(x.range!.start, y.range!.start);
        const to = Math.min(x.range!.end, y.range!.end);
        once.problems.push(`${fmt(to - from + 1)} ITMOs first-transferred twice: ${describeRow(x.a)} and ${describeRow(y.a)}`);
      }
    }
  }

  const sizes: ConsistencyResult = { check: 'range-quantity', outcome: 'pass', problems: [] };
  for (const r of [...own.map((a) => ({ label: describeRow(a), ...a })), ...holdings.map((h) => ({ label: `holding ${h.itmo_first_id}…${h.itmo_last_id} (${h.snapshot_year})`, ...h }))]) {
    const range = idRange(r.itmo_first_id, r.itmo_last_id);
    const size = range ? range.end - range.start + 1 : undefined;
    if (size !== r.quantity) sizes.problems.push(`${r.label}: the range holds ${size === undefined ? 'an unreadable number of' : fmt(size)} ITMOs`);
  }

  // A mirror is the counterparty's row with the same ITMO range and quantity, and the parties reversed.
  const mirror: ConsistencyResult = { check: 'mirror', outcome: 'not-applicable', problems: [] };
  const reporting = new Set(actions.map((a) => a.party));
  const sameRange = (a: ActionRow, b: ActionRow) => a.itmo_first_id === b.itmo_first_id && a.itmo_last_id === b.itmo_last_id && a.quantity === b.quantity;
  for (const a of own) {
    const counterparty = isTransfer(a) ? a.acquiring_party_id : isAcquisition(a) ? a.transferring_party_id : null;
    if (!counterparty || counterparty === party || !reporting.has(counterparty)) continue;
    if (mirror.outcome === 'not-applicable') mirror.outcome = 'pass';
    const theirs = actions.filter((b) => b.party === counterparty && sameRange(a, b)
      && (isTransfer(a) ? isAcquisition(b) && b.transferring_party_id === party : isTransfer(b) && b.acquiring_party_id === party));
    if (theirs.length === 0) {
      mirror.problems.push(`${describeRow(a)}: ${counterparty} reports no ${isTransfer(a) ? 'acquisition' : 'transfer'} of these ITMOs`);
    }
  }

  for (const result of [authorized, once, sizes, mirror]) if (result.problems.length > 0) result.outcome = 'fail';
  return [authorized, once, sizes, mirror];
}
