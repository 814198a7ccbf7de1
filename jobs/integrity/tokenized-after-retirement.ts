import { sql } from 'drizzle-orm';
import { bigintArray, rows } from '../../schema/database.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 6 (DESIGN §6): tokenized after retirement. A registry retirement whose details name a bridge
// (Toucan, C3, Moss: the marker the connectors read from the retirement fields) retired the units in
// the registry so that a token could carry them on a chain, where they can be traded and retired again.
// The registry's retirement and the token are two lives of one unit. Sources: ICVCM CCP 8 "No double
// counting" (double use: "retired and also kept alive elsewhere, for example as a token"); Verra's 2022
// decision to stop the immobilization of VCUs for tokens; reference/registries.md §6.2 "Tokenization".
// Only retired blocks count: a held block that mentions a bridge has not been retired.

type Row = {
  id: number; project_id: number; registry: string; block_key: string; project: string; project_name: string; url: string | null;
  quantity: number; serial_start: number | null; serial_end: number | null; vintage: number | null; status_date: string | null;
  beneficiary: string | null; reason: string | null; details: string | null; marker: string; owner: number | null; private: boolean;
};

export async function findTokenizedAfterRetirement({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  if (scope && scope.blockIds.length === 0) return [];
  const scoped = scope ? sql`and b.id = any(${bigintArray(scope.blockIds)})` : sql``;
  const found = await rows<Row>(db, sql`select b.id::float8 as id, b.project_id::float8 as project_id, b.registry_id as registry, b.block_key,
      p.key as project, p.name as project_name, p.registry_url as url, b.quantity::float8 as quantity,
      b.serial_start::float8 as serial_start, b.serial_end::float8 as serial_end, b.vintage_year as vintage, b.status_date::text as status_date,
      b.retirement_beneficiary as beneficiary, b.retirement_reason as reason, b.retirement_details as details, b.tokenization_marker as marker,
      b.owner_organization_id::float8 as owner, b.is_private as private
    from unit_blocks b join projects p on p.id = b.project_id
    where b.tokenization_marker is not null and b.status = 'retired' and b.superseded_in_batch_id is null ${scoped}`);
  return found.map((b) => ({
    kind: 'tokenized-after-retirement',
    severity: 'medium',
    title: msg('finding.tokenized-after-retirement', {
      units: b.quantity, project: b.project, bridge: b.marker, on: b.status_date ? msg('finding.tokenized-after-retirement.on', { date: b.status_date }) : null,
    }),
    tonnesAtRisk: b.quantity,
    evidence: {
      bridge: b.marker,
      block: {
        registry: b.registry, project: b.project, projectName: b.project_name, serial: b.block_key, start: b.serial_start, end: b.serial_end,
        quantity: b.quantity, vintage: b.vintage, retiredOn: b.status_date, beneficiary: b.beneficiary, reason: b.reason, details: b.details,
        registryUrl: b.url,
      },
    },
    subjects: [{ blockId: b.id }, { projectId: b.project_id }],
    identity: [`${b.registry}:${b.block_key}`],
    ownerOrganizationId: b.private ? b.owner : null,
    isPrivate: b.private,
  }));
}
