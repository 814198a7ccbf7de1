import { sql } from 'drizzle-orm';
import { bigintArray, rows } from '../../schema/database.ts';
import { PARTY_OF_COUNTRY } from './evidence.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 13 (DESIGN §6): corresponding adjustment committed but not completed after the deadline. A unit
// whose corresponding adjustment is declared "Committed" and which has been retired, cancelled or
// exported must show the adjustment "Completed" once the host's report for that year is due: 15 April
// of the following year. Sources: CAD Trust v1 unit fields correspondingAdjustmentDeclaration /
// correspondingAdjustmentStatus; decision 2/CMA.3 annex para 20 (annual information by 15 April);
// reference/registries.md §5.3 gap type 6. Tonnes at risk: the block's quantity.

type Row = {
  id: number; project_id: number; registry: string; block_key: string; project: string; url: string | null; party: string | null;
  quantity: number; status: string; status_date: string; deadline: string; ca_status: string | null; authorization: string | null; owner: number | null; private: boolean;
};

/** How the units were used up, as the title's verb. */
const usedAs = (status: string) => msg(status === 'retired' || status === 'cancelled' || status === 'exported' ? `verb.${status}` : 'verb.used');

export async function findCaStatusOverdue({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  if (scope && scope.blockIds.length === 0) return [];
  const scoped = scope ? sql`and b.id = any(${bigintArray(scope.blockIds)})` : sql``;
  const found = await rows<Row>(db, sql`select b.id::float8 as id, b.project_id::float8 as project_id, b.registry_id as registry, b.block_key,
      p.key as project, p.registry_url as url, c.alpha3 as party, b.quantity::float8 as quantity, b.status::text as status, b.status_date::text as status_date,
      make_date(extract(year from b.status_date)::int + 1, 4, 15)::text as deadline, b.ca_status::text as ca_status,
      b.article6_authorization as authorization, b.owner_organization_id::float8 as owner, b.is_private as private
    from unit_blocks b join projects p on p.id = b.project_id
    left join ${PARTY_OF_COUNTRY} c on c.code = p.country
    where b.ca_declaration = 'committed' and b.status in ('retired', 'cancelled', 'exported') and b.ca_status is distinct from 'completed'
      and b.status_date is not null and make_date(extract(year from b.status_date)::int + 1, 4, 15) < current_date
      and b.superseded_in_batch_id is null ${scoped}`);
  return found.map((b) => ({
    kind: 'ca-status-overdue',
    severity: 'high',
    title: msg('finding.ca-status-overdue', { units: b.quantity, project: b.project, status: usedAs(b.status), date: b.status_date, deadline: b.deadline }),
    tonnesAtRisk: b.quantity,
    evidence: {
      party: b.party, year: Number(b.status_date.slice(0, 4)), deadline: b.deadline,
      block: { registry: b.registry, project: b.project, serial: b.block_key, quantity: b.quantity, status: b.status, statusDate: b.status_date,
        caDeclaration: 'committed', caStatus: b.ca_status, authorization: b.authorization, registryUrl: b.url },
    },
    subjects: [{ blockId: b.id }, { projectId: b.project_id }],
    identity: [`${b.registry}:${b.block_key}`],
    ownerOrganizationId: b.private ? b.owner : null,
    isPrivate: b.private,
  }));
}
