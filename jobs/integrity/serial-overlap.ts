import { sql } from 'drizzle-orm';
import { bigintArray, rows, type Database } from '../../schema/database.ts';
import { msg, type Message } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun, Scope } from './findings.ts';

// Rule 1 (DESIGN §6): serial overlap. Two current blocks whose serial ranges overlap inside one number
// space hold the same units twice: a double issuance, or units still held while also retired. Sources:
// ICVCM CCP 8 "No double counting" (double issuance); CORSIA Emissions Unit Eligibility Criteria, "only
// counted once". Serials are compared only inside a number space (DESIGN §5): Verra's registry-wide
// numbering, or one issuance batch of a registry that numbers per batch. Ranges that touch (one ends
// at n, the next starts at n + 1) do not overlap; superseded blocks (split by the registry) are history.
// Two overlapping blocks that are both retired or cancelled are rule 5's (retired twice), not this one's.

/** Statuses in which units have been used up: two such blocks over the same units are a retirement counted twice. */
export const USED_STATUSES = ['retired', 'cancelled'] as const;

type Side = {
  id: number; registry: string; key: string; project: string; projectId: number; start: number; end: number; quantity: number;
  status: string; date: string | null; beneficiary: string | null; details: string | null; owner: number | null; private: boolean; url: string | null;
};
export type OverlapPair = { numberSpace: string; a: Side; b: Side; start: number; end: number };

type PairRow = Record<string, unknown> & { number_space: string; overlap_start: number; overlap_end: number };

/**
 * Current blocks that share units inside a number space, each pair once (lower id first). With a
 * scope, the pairs that involve one of its blocks.
 *
 * A full run first finds the blocks worth probing in one sweep: sorted by number space and start, a
 * block overlaps an earlier one exactly when it starts at or before the furthest end reached so far in
 * its space. Only those blocks are probed through the GiST index on (number_space, serial_range), so
 * a clean ledger costs one ordered pass, not one index probe per block.
 */
export async function overlappingBlocks(db: Database, scope: Scope): Promise<OverlapPair[]> {
  // The sweep's few hits go back as a list, so the planner sees how few blocks it probes from.
  const probes = scope ? scope.blockIds : (await rows<{ id: number }>(db, sql`select id::float8 as id from (
      select id, serial_start, max(serial_end) over (partition by number_space order by serial_start, id
        rows between unbounded preceding and 1 preceding) as reach
      from unit_blocks where superseded_in_batch_id is null and serial_range is not null) sweep
    where serial_start <= reach`)).map((r) => r.id);
  if (probes.length === 0) return [];
  const side = (t: 'a' | 'b') => sql.raw(`${t}.id::float8 as ${t}_id, ${t}.registry_id as ${t}_registry, ${t}.block_key as ${t}_key,
    p${t}.key as ${t}_project, ${t}.project_id::float8 as ${t}_project_id, ${t}.serial_start::float8 as ${t}_start, ${t}.serial_end::float8 as ${t}_end,
    ${t}.quantity::float8 as ${t}_quantity, ${t}.status::text as ${t}_status, ${t}.status_date::text as ${t}_date,
    ${t}.retirement_beneficiary as ${t}_beneficiary, ${t}.retirement_details as ${t}_details,
    ${t}.owner_organization_id::float8 as ${t}_owner, ${t}.is_private as ${t}_private, p${t}.registry_url as ${t}_url`);
  const found = await rows<PairRow>(db, sql`with pair as (
      select least(s.id, o.id) as a_id, greatest(s.id, o.id) as b_id
      from unit_blocks s
      join unit_blocks o on o.number_space = s.number_space and o.serial_range && s.serial_range and o.id <> s.id
      where s.id = any(${bigintArray(probes)}) and s.superseded_in_batch_id is null and o.superseded_in_batch_id is null
      group by 1, 2)
    select a.number_space, ${side('a')}, ${side('b')},
      greatest(a.serial_start, b.serial_start)::float8 as overlap_start, least(a.serial_end, b.serial_end)::float8 as overlap_end
    from pair join unit_blocks a on a.id = pair.a_id join unit_blocks b on b.id = pair.b_id
    join projects pa on pa.id = a.project_id
    join projects pb on pb.id = b.project_id
    order by a.id, b.id`);
  const sideOf = (p: PairRow, t: 'a' | 'b'): Side => ({
    id: p[`${t}_id`] as number, registry: p[`${t}_registry`] as string, key: p[`${t}_key`] as string, project: p[`${t}_project`] as string,
    projectId: p[`${t}_project_id`] as number, start: p[`${t}_start`] as number, end: p[`${t}_end`] as number, quantity: p[`${t}_quantity`] as number,
    status: p[`${t}_status`] as string, date: p[`${t}_date`] as string | null, beneficiary: p[`${t}_beneficiary`] as string | null,
    details: p[`${t}_details`] as string | null, owner: p[`${t}_owner`] as number | null, private: p[`${t}_private`] as boolean, url: p[`${t}_url`] as string | null,
  });
  return found.map((p) => ({ numberSpace: p.number_space, a: sideOf(p, 'a'), b: sideOf(p, 'b'), start: p.overlap_start, end: p.overlap_end }));
}

/** Both blocks used up (retired or cancelled): the same units used twice, rule 5's. */
export const bothUsed = (pair: OverlapPair) => USED.has(pair.a.status) && USED.has(pair.b.status);
const USED = new Set<string>(USED_STATUSES);

/** A block as the evidence names it. */
export const blockEvidence = (s: Side) => ({
  registry: s.registry, project: s.project, serial: s.key, start: s.start, end: s.end, quantity: s.quantity,
  status: s.status, statusDate: s.date, beneficiary: s.beneficiary, details: s.details, registryUrl: s.url,
});

/** What rules 1 and 5 share: the finding for one overlapping pair. */
export function overlapCandidate(pair: OverlapPair, kind: 'serial-overlap' | 'retired-twice', title: Message): FindingCandidate {
  const units = pair.end - pair.start + 1;
  const hidden = pair.a.private ? pair.a : pair.b.private ? pair.b : undefined;
  return {
    kind,
    severity: 'high',
    title,
    tonnesAtRisk: units,
    evidence: { numberSpace: pair.numberSpace, overlap: { start: pair.start, end: pair.end, units }, blocks: [blockEvidence(pair.a), blockEvidence(pair.b)] },
    subjects: [{ blockId: pair.a.id }, { blockId: pair.b.id }, { projectId: pair.a.projectId }, { projectId: pair.b.projectId }],
    identity: [`${pair.a.registry}:${pair.a.key}`, `${pair.b.registry}:${pair.b.key}`],
    ownerOrganizationId: hidden ? hidden.owner : null,
    isPrivate: hidden !== undefined,
  };
}

export async function findSerialOverlaps(run: RuleRun): Promise<FindingCandidate[]> {
  const pairs = (await run.overlaps()).filter((pair) => !bothUsed(pair));
  return pairs.map((pair) => {
    const units = pair.end - pair.start + 1;
    return overlapCandidate(pair, 'serial-overlap', msg('finding.serial-overlap', { units, start: String(pair.start), end: String(pair.end), numberSpace: pair.numberSpace }));
  });
}
