import { sql } from 'drizzle-orm';
import { bigintArray, rows } from '../../schema/database.ts';
import { PARTY_OF_COUNTRY } from './evidence.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';


// Rule 12 (DESIGN §6): units used for CORSIA or toward another Party's NDC with no authorization. Such
// use needs the host's authorization (a Letter of Authorization, and its T2 row) and a corresponding
// adjustment; CORSIA's first phase (2024–2026) accepts only units with both. A retirement or
// cancellation for CORSIA or an NDC whose block names no authorization, in a host that has no
// authorization in Tally covering its vintage, is at risk of being counted by the host as well.
// Sources: decision 2/CMA.3 annex para 2(b), ch. II (authorization); ICAO CORSIA Emissions Unit
// Eligibility Criteria (host letter of attestation, first phase); reference/registries.md §5.3 gap
// type 5. Tonnes at risk: the block's quantity.

type Row = {
  id: number; project_id: number; registry: string; block_key: string; project: string; url: string | null; party: string | null;
  quantity: number; status: string; status_date: string | null; vintage: number | null; purpose: string; reason: string | null; details: string | null;
  owner: number | null; private: boolean;
};

export async function findCaUnauthorizedUse({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  if (scope && scope.blockIds.length === 0) return [];
  const scoped = scope ? sql`and b.id = any(${bigintArray(scope.blockIds)})` : sql``;
  const found = await rows<Row>(db, sql`select b.id::float8 as id, b.project_id::float8 as project_id, b.registry_id as registry, b.block_key,
      p.key as project, p.registry_url as url, c.alpha3 as party, b.quantity::float8 as quantity, b.status::text as status,
      b.status_date::text as status_date, b.vintage_year as vintage, b.retirement_purpose::text as purpose, b.retirement_reason as reason,
      b.retirement_details as details, b.owner_organization_id::float8 as owner, b.is_private as private
    from unit_blocks b join projects p on p.id = b.project_id
    left join ${PARTY_OF_COUNTRY} c on c.code = p.country
    where b.retirement_purpose in ('corsia', 'ndc') and b.status in ('retired', 'cancelled') and b.article6_authorization is null
      and b.superseded_in_batch_id is null ${scoped}
      and not exists (select 1 from aef_authorizations a where a.party = c.alpha3
        and (b.vintage_year is null or a.timeframe_start is null or b.vintage_year between a.timeframe_start and a.timeframe_end))`);
  return found.map((b) => ({
    kind: 'ca-unauthorized-use',
    severity: 'medium',
    title: msg('finding.ca-unauthorized-use', {
      units: b.quantity, project: b.project, status: msg(b.status === 'cancelled' ? 'verb.cancelled' : 'verb.retired'),
      use: msg(b.purpose === 'corsia' ? 'finding.ca-unauthorized-use.corsia' : 'finding.ca-unauthorized-use.ndc'), party: b.party ?? msg('word.theHost'),
    }),
    tonnesAtRisk: b.quantity,
    evidence: {
      party: b.party, year: b.status_date ? Number(b.status_date.slice(0, 4)) : b.vintage,
      block: { registry: b.registry, project: b.project, serial: b.block_key, quantity: b.quantity, status: b.status, statusDate: b.status_date,
        vintage: b.vintage, purpose: b.purpose, reason: b.reason, details: b.details, registryUrl: b.url },
      authorization: msg('value.authorization.none-known'),
    },
    subjects: [{ blockId: b.id }, { projectId: b.project_id }],
    identity: [`${b.registry}:${b.block_key}`],
    ownerOrganizationId: b.private ? b.owner : null,
    isPrivate: b.private,
  }));
}
