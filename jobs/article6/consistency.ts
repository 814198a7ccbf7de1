import { sql } from 'drizzle-orm';
import { idRange } from '../../connectors/article6/aef.ts';
import { rows, visibleTo, type Database } from '../../schema/database.ts';
import { msg, render, type Locale, type Message, type Params } from '../../schema/messages/index.ts';

// The checks a Party can run on its own AEF before sending it (DESIGN §1; reference/registries.md §5.2,
// §5.3 gap types 2–4), over what Tally holds for it: per authorization, first transfers plus holdings
// never exceed the authorized quantity (the CA0004 invariant); the ITMOs first transferred in a year
// equal the corresponding adjustment the Party added for it; no ITMO range is first-transferred twice;
// every range holds its quantity; and where the counterparty's AEF is in Tally too, each transfer has
// its mirror acquisition and each acquisition its transfer. The corresponding-adjustment gap rules
// (jobs/integrity/ca-*.ts) report the same problems as findings.

export type ConsistencyCheck = 'authorized-quantity' | 'ca-applied' | 'first-transfer-once' | 'range-quantity' | 'mirror';
export const CONSISTENCY_CHECKS: readonly ConsistencyCheck[] = ['authorized-quantity', 'ca-applied', 'first-transfer-once', 'range-quantity', 'mirror'];

/** One problem, with what a finding needs: the tonnes, the year, who may see it, and the AEF rows. */
export type Problem = {
  check: ConsistencyCheck;
  party: string;
  year: number | null;
  tonnes: number;
  /** What is wrong, in English. */
  message: string;
  /** The same as a message of the catalogues, for readers in any language. */
  text: Message;
  /** Stable parts naming the problem (authorization ids, ITMO ranges), for a finding's fingerprint. */
  identity: string[];
  actionIds: number[];
  owner: number | null;
  isPrivate: boolean;
};

export type ConsistencyResult = {
  check: ConsistencyCheck;
  /** `not-applicable`: nothing to check (no counterparty data for mirrors, no corresponding adjustments uploaded). */
  outcome: 'pass' | 'fail' | 'not-applicable';
  /** One sentence per problem, in the locale asked for (English by default). */
  problems: string[];
};

type Owned = { owner: number | null; is_private: boolean };
type ActionRow = Owned & {
  id: number; party: string; action_type: string; action_subtype: string | null; authorization_id: string | null;
  first_transferring_party_id: string | null; transferring_party_id: string | null; acquiring_party_id: string | null;
  itmo_first_id: string | null; itmo_last_id: string | null; quantity: number; action_date: string | null;
};
type HoldingRow = Owned & { snapshot_year: number; authorization_id: string | null; itmo_first_id: string | null; itmo_last_id: string | null; quantity: number };

const describeRow = (a: ActionRow) => msg('aef.row', {
  type: a.action_type, subtype: a.action_subtype ? msg('aef.row.subtype', { subtype: a.action_subtype }) : null, first: a.itmo_first_id, last: a.itmo_last_id,
  quantity: a.quantity, date: a.action_date ? msg('aef.row.date', { date: a.action_date }) : null,
});
/** A problem's words: the message, and its English for `message`. */
const said = (key: Parameters<typeof msg>[0], params: Params) => {
  const text = msg(key, params);
  return { text, message: render('en', text) };
};
const isFirstTransfer = (a: ActionRow) => /^first transfer/i.test(a.action_type);
const isTransfer = (a: ActionRow) => /^(first transfer|transfer)$/i.test(a.action_type.trim());
const isAcquisition = (a: ActionRow) => /^acquisition$/i.test(a.action_type.trim());
const yearOf = (date: string | null) => (date ? Number(date.slice(0, 4)) : null);

/** Who may see a problem: private to the owner of the first private row involved, else public. */
function ownership(...involved: Owned[]): Pick<Problem, 'owner' | 'isPrivate'> {
  const hidden = involved.find((r) => r.is_private);
  return hidden ? { owner: hidden.owner, isPrivate: true } : { owner: null, isPrivate: false };
}

/**
 * Every problem with one Party's AEF. `viewer` is the organization asking (public rows and its own
 * private ones); `all` sees everything, for the gap rules, whose findings keep private rows private.
 */
export async function aefProblems(db: Database, party: string, options: { reportYear?: number; viewer?: number | null | 'all' } = {}): Promise<{ problems: Problem[]; checked: Set<ConsistencyCheck> }> {
  const viewer = options.viewer ?? null;
  const visible = viewer === 'all' ? sql`true` : visibleTo('x', viewer);
  const upTo = options.reportYear === undefined ? sql`true` : sql`coalesce(s.report_year, 0) <= ${options.reportYear}`;
  const actions = await rows<ActionRow>(db, sql`select x.id::float8 as id, x.party, x.action_type, x.action_subtype, x.authorization_id,
      x.first_transferring_party_id, x.transferring_party_id, x.acquiring_party_id, x.itmo_first_id, x.itmo_last_id,
      x.quantity_tco2::float8 as quantity, x.action_date::text as action_date, x.owner_organization_id::float8 as owner, x.is_private
    from aef_actions x left join aef_submissions s on s.id = x.submission_id
    where ${visible} and ${upTo} order by x.action_date, x.id`);
  const own = actions.filter((a) => a.party === party);
  const holdings = await rows<HoldingRow>(db, sql`select x.snapshot_year, x.authorization_id, x.itmo_first_id, x.itmo_last_id,
      x.quantity_tco2::float8 as quantity, x.owner_organization_id::float8 as owner, x.is_private
    from aef_holdings x where x.party = ${party} and ${visible} ${options.reportYear === undefined ? sql`` : sql`and x.snapshot_year <= ${options.reportYear}`}`);
  // An authorization's quantity is optional in the AEF (the 2024 layout has none): null is "not stated".
  const authorizations = await rows<Owned & { authorization_id: string; quantity: number | null }>(db, sql`select distinct on (x.authorization_id) x.authorization_id,
      x.quantity::float8 as quantity, x.owner_organization_id::float8 as owner, x.is_private
    from aef_authorizations x where x.party = ${party} and ${visible} order by x.authorization_id, x.version desc`);
  const adjustments = await rows<Owned & { year: number; quantity: number }>(db, sql`select x.year, sum(x.quantity)::float8 as quantity,
      max(x.owner_organization_id)::float8 as owner, bool_or(x.is_private) as is_private
    from corresponding_adjustments x where x.party = ${party} and x.direction = 'add' and ${visible} group by x.year`);

  const problems: Problem[] = [];
  const checked = new Set<ConsistencyCheck>(['first-transfer-once', 'range-quantity']);
  // Nothing to check against when the Party's authorizations state no quantity.
  if (authorizations.length === 0 || authorizations.some((a) => a.quantity !== null)) checked.add('authorized-quantity');
  // Holdings are a 31 December snapshot: only the latest year counts.
  const latest = Math.max(0, ...holdings.map((h) => h.snapshot_year));
  const held = holdings.filter((h) => h.snapshot_year === latest);
  const firstTransfers = own.filter((a) => isFirstTransfer(a) && (a.first_transferring_party_id ?? party) === party);

  for (const a of authorizations) {
    if (a.quantity === null) continue;
    const mine = firstTransfers.filter((t) => t.authorization_id === a.authorization_id);
    const transferred = mine.reduce((s, t) => s + t.quantity, 0);
    const keptRows = held.filter((h) => h.authorization_id === a.authorization_id);
    const kept = keptRows.reduce((s, h) => s + h.quantity, 0);
    const authorized = a.quantity;
    if (transferred + kept > authorized) {
      problems.push({
        check: 'authorized-quantity', party, year: Math.max(0, ...mine.map((t) => yearOf(t.action_date) ?? 0)) || latest || null,
        tonnes: transferred + kept - authorized, identity: [`authorization:${a.authorization_id}`], actionIds: mine.map((t) => t.id),
        ...said('aef.authorized-quantity', { authorization: a.authorization_id, transferred, held: kept, year: String(latest), total: transferred + kept, authorized }),
        ...ownership(a, ...mine, ...keptRows),
      });
    }
  }

  if (adjustments.length > 0) {
    checked.add('ca-applied');
    const years = new Set([...firstTransfers.map((t) => yearOf(t.action_date)).filter((y): y is number => y !== null), ...adjustments.map((c) => c.year)]);
    for (const year of [...years].sort()) {
      const mine = firstTransfers.filter((t) => yearOf(t.action_date) === year);
      const transferred = mine.reduce((s, t) => s + t.quantity, 0);
      const adjustment = adjustments.find((c) => c.year === year);
      const added = adjustment?.quantity ?? 0;
      if (transferred !== added) {
        problems.push({
          check: 'ca-applied', party, year, tonnes: Math.abs(transferred - added), identity: [`ca:${year}`], actionIds: mine.map((t) => t.id),
          ...said('aef.ca-applied', { year: String(year), transferred, added }),
          ...ownership(...(adjustment ? [adjustment] : []), ...mine),
        });
      }
    }
  }

  const ranged = firstTransfers.map((a) => ({ a, range: idRange(a.itmo_first_id, a.itmo_last_id) })).filter((x) => x.range !== undefined);
  ranged.sort((x, y) => (x.range!.prefix < y.range!.prefix ? -1 : x.range!.prefix > y.range!.prefix ? 1 : x.range!.start - y.range!.start));
  for (let i = 1; i < ranged.length; i += 1) {
    for (let j = i - 1; j >= 0 && ranged[j]!.range!.prefix === ranged[i]!.range!.prefix; j -= 1) {
      const [x, y] = [ranged[j]!, ranged[i]!];
      if (y.range!.start > x.range!.end) continue;
      const from = Math.max(x.range!.start, y.range!.start);
      const to = Math.min(x.range!.end, y.range!.end);
      problems.push({
        check: 'first-transfer-once', party, year: yearOf(y.a.action_date), tonnes: to - from + 1,
        identity: [`itmos:${x.range!.prefix}${from}-${to}`], actionIds: [x.a.id, y.a.id],
        ...said('aef.first-transfer-once', { units: to - from + 1, first: describeRow(x.a), second: describeRow(y.a) }),
        ...ownership(x.a, y.a),
      });
    }
  }

  for (const r of [...own.map((a) => ({ ...a, label: describeRow(a), actionId: a.id as number | undefined, year: yearOf(a.action_date) })),
    ...holdings.map((h) => ({ ...h, label: msg('aef.holding', { first: h.itmo_first_id, last: h.itmo_last_id, year: String(h.snapshot_year) }), actionId: undefined, year: h.snapshot_year }))]) {
    const range = idRange(r.itmo_first_id, r.itmo_last_id);
    const size = range ? range.end - range.start + 1 : undefined;
    if (size !== r.quantity) {
      problems.push({
        check: 'range-quantity', party, year: r.year, tonnes: Math.abs((size ?? 0) - r.quantity), identity: [`range:${r.itmo_first_id}-${r.itmo_last_id}`],
        actionIds: r.actionId === undefined ? [] : [r.actionId], ...ownership(r),
        ...(size === undefined ? said('aef.range-quantity.unreadable', { row: r.label }) : said('aef.range-quantity', { row: r.label, size })),
      });
    }
  }

  // A mirror is the counterparty's row with the same ITMO range and quantity, and the parties reversed.
  const reporting = new Set(actions.map((a) => a.party));
  const sameRange = (a: ActionRow, b: ActionRow) => a.itmo_first_id === b.itmo_first_id && a.itmo_last_id === b.itmo_last_id && a.quantity === b.quantity;
  for (const a of own) {
    const counterparty = isTransfer(a) ? a.acquiring_party_id : isAcquisition(a) ? a.transferring_party_id : null;
    if (!counterparty || counterparty === party || !reporting.has(counterparty)) continue;
    checked.add('mirror');
    const theirs = actions.filter((b) => b.party === counterparty && sameRange(a, b)
      && (isTransfer(a) ? isAcquisition(b) && b.transferring_party_id === party : isTransfer(b) && b.acquiring_party_id === party));
    if (theirs.length === 0) {
      problems.push({
        check: 'mirror', party, year: yearOf(a.action_date), tonnes: a.quantity, identity: [`mirror:${a.itmo_first_id}-${a.itmo_last_id}:${counterparty}`],
        actionIds: [a.id], ...ownership(a),
        ...said('aef.mirror', { row: describeRow(a), counterparty, what: msg(isTransfer(a) ? 'aef.mirror.acquisition' : 'aef.mirror.transfer') }),
      });
    }
  }
  return { problems, checked };
}

/**
 * Runs the checks for one Party (its AEF rows visible to `viewer`, the organization asking; public rows
 * and its own private ones), over the reporting years up to `reportYear` when given.
 */
export async function consistencyChecks(db: Database, party: string, options: { reportYear?: number; viewer?: number | null; locale?: Locale } = {}): Promise<ConsistencyResult[]> {
  const { problems, checked } = await aefProblems(db, party, options);
  return CONSISTENCY_CHECKS.map((check) => {
    const found = problems.filter((p) => p.check === check);
    return { check, outcome: found.length > 0 ? 'fail' : checked.has(check) ? 'pass' : 'not-applicable', problems: found.map((p) => render(options.locale ?? 'en', p.text)) };
  });
}
