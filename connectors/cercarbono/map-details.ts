import type { CanonicalInput, EventRecord, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import type { Mapped } from '../types.ts';
import { convertedFrom, failure, place, projectUrl, REGISTRY, stageStatus, stated, uniq } from './values.ts';
import { isRecord } from '../runtime/values.ts';
import { alternateCode } from './project-codes.ts';

// One project's detail, `GET project/public/<id>` (rb-carbon-scraper `docs/api-contract-cercarbono.md`):
// the only source of the crediting period (`project.periodInit` / `periodEnd`), and of the registry's
// own issued total per verification (`certificatedVerification[].total`, buffer included, equal to the
// sum of the project's serials wherever both are published).
//
// Projects converted in from another registry (`project.isConvertedFrom`, `convertedFromDescription`
// "BioCarbon", `convertedFromLink` to the project's page there; CDC-106 and CDC-107) are missing from
// `analytics/projects`, so their serials never reach the ledger. Their detail is what says what was
// issued here: one issuance per certified verification (`certificatedVerification[].total`, its period
// from `previousCertifications`), with a `converted-in` event naming the registry the units came from,
// and the project declares where it came from (`otherPrograms`, `converted-from`), so the integrity
// rules can set these units beside their origin's. For other projects the serials are the issuances
// and the detail adds only the project's facts.

type Entity = Record<string, unknown>;

const list = (value: unknown): Entity[] => (Array.isArray(value) ? value.filter(isRecord) : []);
const isoDate = (value: unknown) => {
  const text = stated(value);
  return text && /^\d{4}-\d{2}-\d{2}$/.test(text) ? text : undefined;
};

export function mapDetail(body: Entity, locator: string): Mapped {
  const p = isRecord(body.project) ? body.project : undefined;
  const id = stated(p?.id);
  if (!p || !id || !/^\d+$/.test(id)) return { records: [], errors: [failure(locator, 'project.id', 'missing', 'the detail names no project')] };
  const name = stated(p.name);
  const locations = list(body.locations);
  const methodologies = uniq(list(p.sectorsMethodologies).flatMap((s) => list(s.methodologies).map((m) => stated(m.description))));
  const [periodStart, periodEnd] = (stated(p.accreditationPeriod) ?? '').split('/').map((s) => isoDate(s.trim()));
  let creditingPeriodStart = isoDate(p.periodInit) ?? periodStart;
  let creditingPeriodEnd = isoDate(p.periodEnd) ?? periodEnd;
  const warnings = [];
  if (creditingPeriodStart && creditingPeriodEnd && creditingPeriodEnd < creditingPeriodStart) {
    warnings.push(failure(locator, 'project.periodEnd', 'period-reversed', `the crediting period ends (${creditingPeriodEnd}) before it starts (${creditingPeriodStart}); left out`));
    creditingPeriodStart = creditingPeriodEnd = undefined;
  }
  const map = isRecord(locations[0]?.dataMap) ? locations[0]!.dataMap as Entity : undefined;
  const latitude = Number(map?.latitude);
  const longitude = Number(map?.longitude);
  const located = Number.isFinite(latitude) && Number.isFinite(longitude) && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180 && !(latitude === 0 && longitude === 0);
  const converted = p.isConvertedFrom === true || p.isConvertedFrom === 1 ? convertedFrom(p.convertedFromLink, p.convertedFromDescription) : undefined;
  const regions = uniq(locations.map((l) => place(l.regionDescription)));
  const stage = stated(p.projectsStage);
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: String(Number(id)),
    ...alternateCode(p.code),
    ...(name ? { name } : { name: `Cercarbono ${stated(p.code) ?? Number(id)}`, nameIsIdentifier: true }),
    country: stated(locations[0]?.countryDescription),
    region: regions.length > 0 ? regions.join('; ') : undefined,
    methodology: methodologies.length > 0 ? methodologies.join('; ') : undefined,
    status: stageStatus(stage),
    statusRaw: stage,
    creditingPeriodStart,
    creditingPeriodEnd,
    eligibility: [],
    coBenefits: [],
    ...(located ? { latitude, longitude } : {}),
    registryUrl: projectUrl(String(Number(id))),
    ...(converted ? { otherPrograms: [converted] } : {}),
  };
  const records: CanonicalInput[] = [project];
  if (converted) {
    const counterparty = /biocarbon/i.test(converted.program ?? '') ? 'biocarbon' : undefined;
    const periods = list(body.previousCertifications);
    for (const certified of list(body.certificatedVerification)) {
      const total = Number(certified.total);
      const verification = stated(certified.verificationNumber);
      if (!verification || !Number.isFinite(total) || total <= 0) continue;
      const period = periods.find((c) => stated(c.verificationNumber) === verification);
      const vintageStart = isoDate(period?.periodInit);
      const vintageEnd = isoDate(period?.periodEnd);
      const issuanceKey = `converted verification ${verification}`;
      const issuance: IssuanceRecord = {
        type: 'issuance',
        registry: REGISTRY,
        registryProjectId: project.registryProjectId,
        issuanceKey,
        vintageStart: vintageStart && vintageEnd && vintageEnd >= vintageStart ? vintageStart : undefined,
        vintageEnd: vintageStart && vintageEnd && vintageEnd >= vintageStart ? vintageEnd : undefined,
        vintageYear: vintageEnd ? Number(vintageEnd.slice(0, 4)) : undefined,
        quantity: total,
        quantityFromBlocks: false,
        creditType: 'cercarbono-credit',
      };
      const event: EventRecord = {
        type: 'event',
        registry: REGISTRY,
        registryProjectId: project.registryProjectId,
        kind: 'converted-in',
        eventKey: `converted-in:${project.registryProjectId}:${issuanceKey}`,
        quantity: total,
        vintageYear: issuance.vintageYear,
        issuanceKey,
        counterpartyRegistry: counterparty,
        details: {
          from: converted.program ?? null,
          fromProject: converted.projectId ?? null,
          link: stated(p.convertedFromLink) ?? null,
          verification: Number(verification),
          ...(vintageStart ? { periodStart: vintageStart } : {}),
          ...(vintageEnd ? { periodEnd: vintageEnd } : {}),
        },
      };
      records.push(issuance, event);
    }
  }
  return { records, errors: [], warnings };
}
