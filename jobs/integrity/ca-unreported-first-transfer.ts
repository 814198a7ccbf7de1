import { sql } from 'drizzle-orm';
import { rows, type Database } from '../../schema/database.ts';
import { PARTY_OF_COUNTRY } from './evidence.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 8 (DESIGN §6): authorized units whose first-transfer trigger happened with no AEF first-transfer
// row. Registry blocks carry the host's authorization (Verra `hcloaName`, Gold Standard `Article Six
// Authorization`); the authorization's T2 row says when its OIMP units are first transferred: at
// "Use or Cancellation" (a retirement or cancellation for CORSIA or another OIMP), at "Issuance", or at
// "Authorisation" (the last two only where the authorization is for OIMP alone, since units authorized
// for NDC use are first transferred when they cross to another Party's registry, which registries do
// not show). Once the host's report for the trigger's year is due (15 April of the next year), its AEF
// must show first transfers of at least as many units under that authorization in that year. Sources:
// decision 2/CMA.3 annex para 2(b) (first transfer), para 20 (annual information);
// reference/registries.md §5.1, §5.3 gap type 1. Compared by quantity per authorization and year;
// matching the AEF's unit ranges to the blocks is not done yet. Tonnes at risk: the units not reported.
//
// Some registries record the first transfer itself, as a `first-transferred` event naming the host
// and the acquiring Party in its details (`firstTransferringParty`, `acquiringParty`): the JCM issues
// Japan's allocation of a project's credits into Japan's registry, a first transfer of the host Party to
// Japan (connectors/jcm). Those carry no authorization id, so they are compared per host, acquiring
// Party and year with the host's AEF first transfers to that Party (whatever their authorization; an
// AEF row under an authorization a registry block names can thus be counted on both sides). Only
// mitigation achieved from 2021 is an ITMO (decision 2/CMA.3 annex para 1): a transfer of credits whose
// period (else issuance date) ends before 2021 is not one and is left out; a period running into 2021
// counts whole.


type Row = {
  party: string; authorization_id: string; definition: string; year: number; deadline: string; registry_tonnes: number; reported_tonnes: number;
  blocks: { id: number; registry: string; project: string; serial: string; quantity: number; trigger: string }[]; private: boolean; owner: number | null;
};

export async function findUnreportedFirstTransfers({ db }: RuleRun): Promise<FindingCandidate[]> {
  return [...await authorizedBlockFindings(db), ...await registryTransferFindings(db)];
}

async function authorizedBlockFindings(db: Database): Promise<FindingCandidate[]> {
  const found = await rows<Row>(db, sql`with authorization_latest as (
      select distinct on (party, authorization_id) party, authorization_id, authorized_on, purposes, first_transfer_definition_oimp as definition,
        is_private, owner_organization_id
      from aef_authorizations order by party, authorization_id, version desc),
    triggered as (
      select a.party, a.authorization_id, a.definition, b.id, b.registry_id, p.key as project, b.block_key, b.quantity,
        case
          when a.definition ~* 'use|cancel' then case when b.status in ('retired', 'cancelled') and b.retirement_purpose in ('corsia', 'oimp') then b.status_date end
          when a.definition ~* 'issu' and a.purposes ~* '^\\s*oimp\\s*$' then coalesce(i.issued_on, b.status_date)
          when a.definition ~* 'authori' and a.purposes ~* '^\\s*oimp\\s*$' then a.authorized_on
        end as trigger_date,
        (a.is_private or b.is_private) as is_private, coalesce(a.owner_organization_id, b.owner_organization_id) as owner
      from unit_blocks b
      join projects p on p.id = b.project_id
      join ${PARTY_OF_COUNTRY} c on c.code = p.country
      join authorization_latest a on a.party = c.alpha3 and upper(a.authorization_id) = upper(trim(b.article6_authorization))
      left join issuances i on i.id = b.issuance_id
      where b.article6_authorization is not null and b.superseded_in_batch_id is null and a.definition is not null),
    due as (
      select party, authorization_id, definition, extract(year from trigger_date)::int as year,
        make_date(extract(year from trigger_date)::int + 1, 4, 15) as deadline,
        sum(quantity)::float8 as registry_tonnes,
        jsonb_agg(jsonb_build_object('id', id, 'registry', registry_id, 'project', project, 'serial', block_key, 'quantity', quantity::float8, 'trigger', trigger_date) order by id) as blocks,
        bool_or(is_private) as private, max(owner)::float8 as owner
      from triggered where trigger_date is not null group by 1, 2, 3, 4, 5)
    select d.party, d.authorization_id, d.definition, d.year, d.deadline::text as deadline, d.registry_tonnes,
      coalesce((select sum(x.quantity_tco2) from aef_actions x where x.party = d.party and x.authorization_id = d.authorization_id
        and x.action_type ~* '^first transfer' and extract(year from x.action_date) = d.year), 0)::float8 as reported_tonnes,
      d.blocks, d.private, d.owner
    from due d where d.deadline < current_date`);
  return found.filter((r) => r.registry_tonnes > r.reported_tonnes).map((r) => {
    const missing = r.registry_tonnes - r.reported_tonnes;
    return {
      kind: 'ca-unreported-first-transfer' as const,
      severity: 'high' as const,
      title: msg('finding.ca-unreported-first-transfer', { party: r.party, authorization: r.authorization_id, year: String(r.year), units: missing, definition: r.definition }),
      tonnesAtRisk: missing,
      evidence: {
        party: r.party, year: r.year, authorization: r.authorization_id, firstTransferDefinition: r.definition, reportDue: r.deadline,
        registryTonnes: r.registry_tonnes, aefFirstTransferTonnes: r.reported_tonnes, blocks: r.blocks.map(({ id: _id, ...b }) => b),
      },
      subjects: r.blocks.map((b) => ({ blockId: Number(b.id) })),
      identity: [r.party, r.authorization_id, String(r.year)],
      ownerOrganizationId: r.private ? r.owner : null,
      isPrivate: r.private,
    };
  });
}

type TransferRow = {
  party: string; acquiring: string; year: number; deadline: string; registry_tonnes: number; reported_tonnes: number;
  transfers: { event: string; registry: string; project: string; projectId: number; issuanceId: number | null; quantity: number; date: string }[];
  private: boolean; owner: number | null;
};

/** First transfers a registry records (JCM's allocations to Japan), against the host's AEF first transfers to the acquiring Party. */
async function registryTransferFindings(db: Database): Promise<FindingCandidate[]> {
  const found = await rows<TransferRow>(db, sql`with transfers as (
      select c.alpha3 as party, coalesce(nullif(upper(trim(e.details->>'acquiringParty')), ''), '') as acquiring, e.id, e.registry_id, p.key as project,
        e.project_id, e.issuance_id, e.event_key, e.quantity, e.occurred_on, e.is_private, e.owner_organization_id
      from events e
      join projects p on p.id = e.project_id
      join ${PARTY_OF_COUNTRY} c on c.code = p.country
      left join issuances i on i.id = e.issuance_id
      where e.kind = 'first-transferred' and e.occurred_on is not null
        and coalesce(i.vintage_end, e.occurred_on) >= date '2021-01-01'),
    due as (
      select party, acquiring, extract(year from occurred_on)::int as year, make_date(extract(year from occurred_on)::int + 1, 4, 15) as deadline,
        sum(quantity)::float8 as registry_tonnes,
        jsonb_agg(jsonb_build_object('event', event_key, 'registry', registry_id, 'project', project, 'projectId', project_id, 'issuanceId', issuance_id,
          'quantity', quantity::float8, 'date', occurred_on) order by id) as transfers,
        bool_or(is_private) as private, max(owner_organization_id)::float8 as owner
      from transfers group by 1, 2, 3, 4)
    select d.party, d.acquiring, d.year, d.deadline::text as deadline, d.registry_tonnes,
      coalesce((select sum(x.quantity_tco2) from aef_actions x where x.party = d.party and x.action_type ~* '^first transfer'
        and coalesce(x.first_transferring_party_id, x.party) = d.party and (d.acquiring = '' or x.acquiring_party_id = d.acquiring)
        and extract(year from x.action_date) = d.year), 0)::float8 as reported_tonnes,
      d.transfers, d.private, d.owner
    from due d where d.deadline < current_date`);
  return found.filter((r) => r.registry_tonnes > r.reported_tonnes).map((r) => {
    const missing = r.registry_tonnes - r.reported_tonnes;
    // The identity keeps the English words it was first fingerprinted with.
    const to = r.acquiring || 'another Party';
    return {
      kind: 'ca-unreported-first-transfer' as const,
      severity: 'high' as const,
      title: msg('finding.ca-unreported-first-transfer.registry', { party: r.party, year: String(r.year), units: missing, to: r.acquiring || msg('word.anotherParty') }),
      tonnesAtRisk: missing,
      evidence: {
        party: r.party, year: r.year, acquiringParty: r.acquiring || null, firstTransferDefinition: msg('value.firstTransferDefinition.recorded-by-registry'), reportDue: r.deadline,
        registryTonnes: r.registry_tonnes, aefFirstTransferTonnes: r.reported_tonnes,
        transfers: r.transfers.map(({ projectId: _p, issuanceId: _i, ...t }) => t),
      },
      subjects: r.transfers.flatMap((t) => [{ projectId: Number(t.projectId) }, ...(t.issuanceId === null ? [] : [{ issuanceId: Number(t.issuanceId) }])]),
      identity: [r.party, `first transfers to ${to}`, String(r.year)],
      ownerOrganizationId: r.private ? r.owner : null,
      isPrivate: r.private,
    };
  });
}
