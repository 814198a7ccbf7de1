import { sql } from 'drizzle-orm';
import { bigintArray, rows } from '../../schema/database.ts';
import { PARTY_OF_COUNTRY } from './evidence.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 14 (DESIGN §6): contribution-claim overlap, reported apart from corresponding-adjustment gaps.
// A voluntary retirement that claims the tonnes for a buyer while the same tonnes count toward the host
// country's NDC, with no authorization and no corresponding adjustment, is claimed twice: by the buyer
// and by the host. Detected where the retirement says so (a corporate claim and the host NDC named
// together, as ART's "Contribution Towards Corporate Climate Pledge AND Host Country NDC") or where
// the project is inside the NDC (CAD Trust coveredByNDC) and the retirement is voluntary. Sources:
// ICVCM CCP 8 "No double counting" (double claiming); reference/registries.md §5.3 gap type 7, §6.1,
// §6.3 case 5. Informational: a contribution claim is legitimate when it does not claim an offset.
// Tonnes at risk: the block's quantity.

const NDC = String.raw`\m(ndc|nationally determined contribution)`;
const CLAIM = String.raw`(corporate|pledge|on behalf|offset|neutral)`;

type Row = {
  id: number; project_id: number; registry: string; block_key: string; project: string; url: string | null; party: string | null;
  quantity: number; status_date: string | null; vintage: number | null; beneficiary: string | null; reason: string | null; details: string | null;
  inside_ndc: boolean; owner: number | null; private: boolean;
};

export async function findContributionClaimOverlaps({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  if (scope && scope.blockIds.length === 0) return [];
  const scoped = scope ? sql`and b.id = any(${bigintArray(scope.blockIds)})` : sql``;
  const found = await rows<Row>(db, sql`select b.id::float8 as id, b.project_id::float8 as project_id, b.registry_id as registry, b.block_key,
      p.key as project, p.registry_url as url, c.alpha3 as party, b.quantity::float8 as quantity, b.status_date::text as status_date,
      b.vintage_year as vintage, b.retirement_beneficiary as beneficiary, b.retirement_reason as reason, b.retirement_details as details,
      p.covered_by_ndc = 'inside-ndc' as inside_ndc, b.owner_organization_id::float8 as owner, b.is_private as private
    from unit_blocks b join projects p on p.id = b.project_id
    left join ${PARTY_OF_COUNTRY} c on c.code = p.country
    where b.status = 'retired' and b.superseded_in_batch_id is null and b.article6_authorization is null
      and b.ca_declaration is distinct from 'committed' and b.retirement_purpose is distinct from 'corsia'
      and ((concat_ws(' ', b.retirement_reason, b.retirement_details) ~* ${NDC} and concat_ws(' ', b.retirement_reason, b.retirement_details, b.retirement_beneficiary) ~* ${CLAIM})
        or (p.covered_by_ndc = 'inside-ndc' and b.retirement_purpose = 'voluntary'))
      ${scoped}`);
  return found.map((b) => ({
    kind: 'contribution-claim-overlap',
    severity: 'info',
    title: msg('finding.contribution-claim-overlap', {
      units: b.quantity, project: b.project, party: b.party ?? msg('word.theHost'),
      beneficiary: b.beneficiary ? msg('finding.contribution-claim-overlap.for', { beneficiary: b.beneficiary }) : null,
    }),
    tonnesAtRisk: b.quantity,
    evidence: {
      party: b.party, year: b.status_date ? Number(b.status_date.slice(0, 4)) : b.vintage,
      why: msg(b.inside_ndc ? 'value.why.inside-ndc' : 'value.why.claim-and-ndc'),
      block: { registry: b.registry, project: b.project, serial: b.block_key, quantity: b.quantity, retiredOn: b.status_date, vintage: b.vintage,
        beneficiary: b.beneficiary, reason: b.reason, details: b.details, registryUrl: b.url },
    },
    subjects: [{ blockId: b.id }, { projectId: b.project_id }],
    identity: [`${b.registry}:${b.block_key}`],
    ownerOrganizationId: b.private ? b.owner : null,
    isPrivate: b.private,
  }));
}
