import { sql } from 'drizzle-orm';
import { rows, textArray, visibleTo, type Database } from '../../schema/database.ts';

// A Party's Article 6 position by year (DESIGN §1): what it authorized, first-transferred, held at the
// end of the year, used, the corresponding adjustments it applied, and the tonnes in open
// corresponding-adjustment gaps, over the AEF rows and findings visible to the asking organization.

export type PartyYear = {
  year: number;
  /** The quantities the year's authorizations state (the AEF's authorized quantity is optional). */
  authorized: number;
  /** Authorizations of the year that state no quantity: not counted in `authorized`, which is then a lower bound. */
  unstatedAuthorizations: number;
  firstTransferred: number;
  held: number;
  used: number;
  caAdded: number;
  caSubtracted: number;
  openGapTonnes: number;
};

const CA_GAP_KINDS = ['ca-unreported-first-transfer', 'ca-quantity-mismatch', 'ca-range-mismatch', 'ca-mirror-missing', 'ca-unauthorized-use', 'ca-status-overdue'];

export async function partySummary(db: Database, party: string, viewer: number | null = null): Promise<PartyYear[]> {
  const visible = (alias: string) => visibleTo(alias, viewer);
  const found = await rows<{ year: number; measure: keyof Omit<PartyYear, 'year'>; tonnes: number }>(db, sql`
    select extract(year from a.authorized_on)::int as year, 'authorized' as measure, sum(a.quantity)::float8 as tonnes
      from aef_authorizations a where a.party = ${party} and a.authorized_on is not null and a.quantity is not null and ${visible('a')} group by 1
    union all
    select extract(year from a.authorized_on)::int, 'unstatedAuthorizations', count(*)::float8
      from aef_authorizations a where a.party = ${party} and a.authorized_on is not null and a.quantity is null and ${visible('a')} group by 1
    union all
    select extract(year from x.action_date)::int, 'firstTransferred', sum(x.quantity_tco2)::float8
      from aef_actions x where x.party = ${party} and x.action_type ilike 'first transfer%' and coalesce(x.first_transferring_party_id, x.party) = ${party}
        and ${visible('x')} group by 1
    union all
    select h.snapshot_year, 'held', sum(h.quantity_tco2)::float8 from aef_holdings h where h.party = ${party} and ${visible('h')} group by 1
    union all
    select coalesce(x.itmo_used_year, extract(year from x.action_date)::int), 'used', sum(x.quantity_tco2)::float8
      from aef_actions x where x.party = ${party} and x.action_type ilike 'use%' and ${visible('x')} group by 1
    union all
    select c.year, case when c.direction = 'add' then 'caAdded' else 'caSubtracted' end, sum(c.quantity)::float8
      from corresponding_adjustments c where c.party = ${party} and ${visible('c')} group by 1, 2
    union all
    select (f.evidence->>'year')::int, 'openGapTonnes', sum(f.tonnes_at_risk)::float8
      from findings f where f.status in ('open', 'acknowledged') and f.kind::text = any(${textArray(CA_GAP_KINDS)})
        and f.evidence->>'party' = ${party} and f.evidence->>'year' is not null and ${visible('f')} group by 1`);
  const byYear = new Map<number, PartyYear>();
  for (const r of found) {
    if (r.year === null) continue;
    const row = byYear.get(r.year) ?? { year: r.year, authorized: 0, unstatedAuthorizations: 0, firstTransferred: 0, held: 0, used: 0, caAdded: 0, caSubtracted: 0, openGapTonnes: 0 };
    row[r.measure] += r.tonnes;
    byYear.set(r.year, row);
  }
  return [...byYear.values()].sort((a, b) => a.year - b.year);
}
