import { sql } from 'drizzle-orm';
import { rows, type Database } from '../../schema/database.ts';
import type { FindingCandidate } from './findings.ts';

// Rule 1 (DESIGN §6): serial overlap. Two current blocks whose serial ranges overlap inside one number
// space hold the same units twice: a double issuance, or a retirement counted twice. Sources: ICVCM
// CCP 8 "No double counting" (double issuance); CORSIA Emissions Unit Eligibility Criteria, "only
// counted once". Serials are compared only inside a number space (DESIGN §5): Verra's registry-wide
// numbering, or one issuance batch of a registry that numbers per batch. Ranges that touch (one ends
// at n, the next starts at n + 1) do not overlap; superseded blocks (split by the registry) are history.

type Pair = {
  number_space: string;
  a_id: string | number; a_registry: string; a_key: string; a_project: string; a_start: string | number; a_end: string | number;
  a_quantity: string | number; a_status: string; a_date: string | null; a_owner: string | number | null; a_private: boolean; a_url: string | null;
  b_id: string | number; b_registry: string; b_key: string; b_project: string; b_start: string | number; b_end: string | number;
  b_quantity: string | number; b_status: string; b_date: string | null; b_owner: string | number | null; b_private: boolean; b_url: string | null;
  overlap_start: string | number; overlap_end: string | number;
};

export async function findSerialOverlaps(db: Database): Promise<FindingCandidate[]> {
  // The GiST index on (number_space, serial_range) serves the join: one index probe per block.
  const pairs = await rows<Pair>(db, sql`select a.number_space,
      a.id as a_id, a.registry_id as a_registry, a.block_key as a_key, pa.key as a_project, a.serial_start as a_start, a.serial_end as a_end,
      a.quantity as a_quantity, a.status::text as a_status, a.status_date::text as a_date, a.owner_organization_id as a_owner, a.is_private as a_private, pa.registry_url as a_url,
      b.id as b_id, b.registry_id as b_registry, b.block_key as b_key, pb.key as b_project, b.serial_start as b_start, b.serial_end as b_end,
      b.quantity as b_quantity, b.status::text as b_status, b.status_date::text as b_date, b.owner_organization_id as b_owner, b.is_private as b_private, pb.registry_url as b_url,
      greatest(a.serial_start, b.serial_start) as overlap_start, least(a.serial_end, b.serial_end) as overlap_end
    from unit_blocks a
    join unit_blocks b on b.number_space = a.number_space and b.serial_range && a.serial_range and b.id > a.id
    join projects pa on pa.id = a.project_id
    join projects pb on pb.id = b.project_id
    where a.superseded_in_batch_id is null and b.superseded_in_batch_id is null and a.serial_range is not null`);
  return pairs.map((p) => {
    const start = Number(p.overlap_start);
    const end = Number(p.overlap_end);
    const units = end - start + 1;
    const block = (side: 'a' | 'b') => ({
      registry: p[`${side}_registry`], project: p[`${side}_project`], serial: p[`${side}_key`],
      start: Number(p[`${side}_start`]), end: Number(p[`${side}_end`]), quantity: Number(p[`${side}_quantity`]),
      status: p[`${side}_status`], statusDate: p[`${side}_date`], registryUrl: p[`${side}_url`],
    });
    const privateSide = p.a_private ? 'a' : p.b_private ? 'b' : undefined;
    return {
      kind: 'serial-overlap' as const,
      severity: 'high' as const,
      title: `${units.toLocaleString('en-US')} units (${start}–${end}) appear in two blocks of ${p.number_space}`,
      tonnesAtRisk: units,
      evidence: { numberSpace: p.number_space, overlap: { start, end, units }, blocks: [block('a'), block('b')] },
      subjects: [{ blockId: Number(p.a_id) }, { blockId: Number(p.b_id) }],
      identity: [`${p.a_registry}:${p.a_key}`, `${p.b_registry}:${p.b_key}`],
      ownerOrganizationId: privateSide ? Number(p[`${privateSide}_owner`]) : null,
      isPrivate: privateSide !== undefined,
    };
  });
}
