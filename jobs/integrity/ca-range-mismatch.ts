import { sql } from 'drizzle-orm';
import { readUnitRange } from '../../connectors/serials.ts';
import { rows, type Database } from '../../schema/database.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';
import { problemFindings } from './ca-problems.ts';

// Rule 10 (DESIGN §6): corresponding-adjustment range mismatch. An ITMO range first-transferred twice
// is a double first transfer (and a double corresponding adjustment), and a range whose size is not its
// quantity cannot be reconciled. And an AEF action's underlying units (UnitFirstId … UnitLastId) must be
// units the registry holds: where Tally has the registry's blocks or issuance ranges in that number
// space, units of the range that none of them holds are reported. A number space Tally holds nothing of
// is not judged. Sources: decision 2/CMA.3 annex para 2(b) ("first transfer" happens once per ITMO);
// reference/registries.md §5.3 gap type 3. Tonnes at risk: the ITMOs counted twice, the size difference,
// or the units the registry does not show.

type UnitAction = {
  id: number; party: string; action_type: string; action_date: string | null; authorization_id: string | null; unit_registry_id: string | null;
  unit_first_id: string; unit_last_id: string; quantity: number; owner: number | null; is_private: boolean;
};
type Coverage = { known: boolean; covered: number; blocks: { serial: string | null; project: string; status: string; start: number; end: number }[] };

async function coverage(db: Database, numberSpace: string, start: number, end: number): Promise<Coverage> {
  const [found] = await rows<Coverage>(db, sql`with held as (
      select b.serial_range as r from unit_blocks b
      where b.number_space = ${numberSpace} and b.serial_range && int8range(${start}::bigint, ${end}::bigint, '[]') and b.superseded_in_batch_id is null
      union all
      select int8range(i.serial_start, i.serial_end, '[]') from issuances i
      where i.number_space = ${numberSpace} and int8range(i.serial_start, i.serial_end, '[]') && int8range(${start}::bigint, ${end}::bigint, '[]')
    )
    select exists (select 1 from unit_blocks where number_space = ${numberSpace}) or exists (select 1 from issuances where number_space = ${numberSpace}) as known,
      coalesce((select sum(upper(m) - lower(m)) from unnest((select range_agg(r) from held) * int8multirange(int8range(${start}::bigint, ${end}::bigint, '[]'))) m), 0)::float8 as covered,
      coalesce((select jsonb_agg(jsonb_build_object('serial', b.serial_raw, 'project', p.key, 'status', b.status, 'start', b.serial_start, 'end', b.serial_end) order by b.serial_start)
        from unit_blocks b join projects p on p.id = b.project_id
        where b.number_space = ${numberSpace} and b.serial_range && int8range(${start}::bigint, ${end}::bigint, '[]') and b.superseded_in_batch_id is null), '[]'::jsonb) as blocks`);
  return found!;
}

/** AEF actions whose underlying units the registry's blocks, where Tally has them, do not hold. */
export async function unitRangeFindings(db: Database): Promise<FindingCandidate[]> {
  const actions = await rows<UnitAction>(db, sql`select a.id::float8 as id, a.party, a.action_type, a.action_date::text as action_date, a.authorization_id,
      a.unit_registry_id, a.unit_first_id, a.unit_last_id, a.quantity_tco2::float8 as quantity, a.owner_organization_id::float8 as owner, a.is_private
    from aef_actions a where a.unit_first_id is not null and a.unit_last_id is not null order by a.id`);
  const found: FindingCandidate[] = [];
  for (const a of actions) {
    const reading = readUnitRange(a.unit_first_id, a.unit_last_id);
    if (!reading) continue;
    const { numberSpace, start, end } = reading.range;
    const held = await coverage(db, numberSpace, start, end);
    const units = end - start + 1;
    if (!held.known || held.covered >= units) continue;
    const missing = units - held.covered;
    found.push({
      kind: 'ca-range-mismatch',
      severity: 'high',
      title: msg('finding.ca-range-mismatch.units', {
        party: a.party, action: a.action_type, first: a.unit_first_id, last: a.unit_last_id, missing, units, registry: reading.registry,
      }),
      tonnesAtRisk: missing,
      evidence: {
        party: a.party, year: a.action_date ? Number(a.action_date.slice(0, 4)) : null, check: 'registry-units', authorization: a.authorization_id,
        action: { type: a.action_type, date: a.action_date, quantity: a.quantity, unitRegistry: a.unit_registry_id, unitFirstId: a.unit_first_id, unitLastId: a.unit_last_id },
        registry: reading.registry, numberSpace, units, unitsInRegistryBlocks: held.covered, unitsNotInRegistry: missing, registryBlocks: held.blocks,
      },
      subjects: [{ aefActionId: a.id }],
      identity: [a.party, 'registry-units', numberSpace, `${start}-${end}`],
      ownerOrganizationId: a.is_private ? a.owner : null,
      isPrivate: a.is_private,
    });
  }
  return found;
}

export async function findCaRangeMismatches(run: RuleRun): Promise<FindingCandidate[]> {
  return [
    ...problemFindings(await run.aefProblems(), 'ca-range-mismatch', ['first-transfer-once', 'range-quantity'], 'high'),
    ...await unitRangeFindings(run.db),
  ];
}
