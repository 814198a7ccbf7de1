import { sql } from 'drizzle-orm';
import { rows, type Database } from '../../schema/database.ts';

// Issuance by year with each tonne counted once, worked out here from the ledger's public events (not
// from trend_facts nor the API's query), to check trends against: each project-vintage's conversions to
// a registry Tally holds come off that project-vintage's own issuance, earliest year first, never more
// than it issued; the destination registry's issuance of those tonnes stays in its own figure.

type Row = { project: number; vintage: number | null; year: number | null; quantity: number };

export async function onceCountedIssuedByYear(db: Database): Promise<Map<number | null, number>> {
  const issued = await rows<Row>(db, sql`select project_id::float8 as project, vintage_year as vintage,
      extract(year from occurred_on)::int as year, sum(quantity)::float8 as quantity
    from events where kind = 'issued' and not is_private group by 1, 2, 3`);
  const converted = await rows<Row>(db, sql`select project_id::float8 as project, vintage_year as vintage, null as year,
      sum(quantity)::float8 as quantity
    from events where kind = 'converted-out' and not is_private
      and counterparty_registry_id in (select registry_id from projects where not is_private)
    group by 1, 2`);
  const left = new Map(converted.map((c) => [`${c.project}/${c.vintage}`, c.quantity]));
  const byYear = new Map<number | null, number>();
  const earliestFirst = [...issued].sort((a, b) => (a.year ?? Infinity) - (b.year ?? Infinity));
  for (const row of earliestFirst) {
    const key = `${row.project}/${row.vintage}`;
    const taken = Math.min(row.quantity, left.get(key) ?? 0);
    if (taken > 0) left.set(key, left.get(key)! - taken);
    byYear.set(row.year, (byYear.get(row.year) ?? 0) + row.quantity - taken);
  }
  return byYear;
}
