import { cdmReference } from './map-v2.ts';
import { registryOfCadtName, cadtRegistryName } from './registries.ts';
import { years } from './core.ts';
import { nameUuid, sliceKeys, type LedgerSlice, type SliceIssuance, type SliceProject } from './slice.ts';
import { v2CoBenefit, v2Country, v2LabelType, v2ProjectStatus, v2SectorAndType, v2UnitStatus, v2UnitType } from './v2-terms.ts';

// A slice of the ledger as CAD Trust v2.0.2 records, one list per entity in the schema's insert order,
// keyed by the v2 endpoint names (`project`, `project-methodology`, `unit-label`…): what a v2 node would
// serve, and what Tally's v2 upload reads back. v2 hangs an issuance on a verification, a project
// methodology and a location, so each issuance gets a verification record for its monitoring period
// (its vintage dates), and each project its methodologies and its location. Values are the v2 picklists'.
//
// Fields the schema requires that Tally does not hold are left out rather than made up, and counted in
// `gaps` (field → records), so whoever feeds a node knows what to add: verification bodies (Tally keeps
// none), a unit's status reason and date where the registry gave none, a project's sector and type where
// Tally could not classify it. Units Tally knows without their issuance hang on one issuance record per
// project and vintage, which stands for the issuances the registry did not name.

export type CadtV2Record = Record<string, string | number | string[] | null>;
export type CadtV2Document = Record<string, CadtV2Record[]>;
export type CadtV2Export = { document: CadtV2Document; gaps: Record<string, number> };

export const V2_EXPORT_ENTITIES = [
  'methodology', 'stakeholder', 'label', 'project', 'project-methodology', 'verification', 'location', 'estimation', 'co-benefit', 'issuance', 'unit', 'unit-label',
] as const;

/** Drops the fields that are absent, so a record holds only what Tally knows. */
function compact(record: Record<string, unknown>): CadtV2Record {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))) as CadtV2Record;
}

export function cadtV2Entities(slice: LedgerSlice): CadtV2Export {
  const keys = sliceKeys(slice);
  const doc: Record<(typeof V2_EXPORT_ENTITIES)[number], CadtV2Record[]> = {
    methodology: [], stakeholder: [], label: [], project: [], 'project-methodology': [], verification: [], location: [], estimation: [], 'co-benefit': [],
    issuance: [], unit: [], 'unit-label': [],
  };
  const gaps: Record<string, number> = {};
  const gap = (field: string) => {
    gaps[field] = (gaps[field] ?? 0) + 1;
  };
  const projectIds = new Map<number, string>();
  const firstMethodology = new Map<number, string>();
  const locations = new Map<number, string>();
  const methodologies = new Map<string, CadtV2Record>();
  const projects = new Map(slice.projects.map((p) => [p.id, p]));

  for (const p of slice.projects) {
    const id = keys.project(p);
    projectIds.set(p.id, id);
    const { projectSector, projectType } = v2SectorAndType(p.projectType, p.category);
    const status = v2ProjectStatus(p.status);
    const link = p.registryUrl ?? slice.registries.get(p.registry)?.url ?? null;
    const cdm = p.otherPrograms?.find((o) => o.relation === 'converted-from' && o.projectId && registryOfCadtName(o.program ?? '')?.slug !== p.registry
      && /\b(cdm|clean development mechanism)\b/i.test(o.program ?? '') && /^\d+$/.test(o.projectId));
    if (projectSector.length === 0) gap('project.projectSector');
    if (projectType.length === 0) gap('project.projectType');
    if (!status) gap('project.projectStatus');
    if (!link) gap('project.projectLink');
    doc.project.push(compact({
      cadTrustProjectId: id,
      projectRegistryName: cadtRegistryName(p.registry, slice.registries.get(p.registry)?.name),
      projectId: p.registryProjectId,
      projectName: p.name,
      projectLink: link,
      projectSector, projectType,
      projectStatus: status,
      // The status holds as of registration where that is what it is, else as of the day Tally last saw the project.
      projectStatusDate: p.status === 'registered' && p.registeredOn ? p.registeredOn : p.seenOn,
      projectUnitMetric: 'tCO2e',
      cadTrustReferenceProjectId: cdm?.projectId && cdmReference(`CDM-${cdm.projectId}`) ? `CDM-${cdm.projectId}` : null,
    }));
    for (const part of (p.methodologyRaw ?? '').split(/\s*;\s*/).filter(Boolean)) {
      const methodologyId = nameUuid('methodology', part);
      if (!methodologies.has(part)) methodologies.set(part, { cadTrustMethodologyId: methodologyId, methodologyCode: part, methodologyName: part });
      const link = keys.child('project-methodology', `${p.key}|${part}`);
      if (!firstMethodology.has(p.id)) firstMethodology.set(p.id, link);
      doc['project-methodology'].push({ cadTrustProjectMethodologyId: link, cadTrustProjectId: id, cadTrustMethodologyId: methodologyId });
    }
    if (p.proponent) {
      doc.stakeholder.push({ cadTrustStakeholderId: keys.child('stakeholder', p.key), stakeholderName: p.proponent, stakeholderType: 'Developer', cadTrustProjectId: id });
    }
    const country = p.country ? v2Country(p.country) : undefined;
    if (country) {
      const location = keys.child('location', p.key);
      locations.set(p.id, location);
      doc.location.push(compact({
        cadTrustLocationId: location, locationCountry: country, locationRegion: p.region,
        locationGis: p.latitude !== null && p.longitude !== null ? JSON.stringify({ lat: p.latitude, lng: p.longitude }) : null, cadTrustProjectId: id,
      }));
    }
    if (p.creditingPeriodStart && p.creditingPeriodEnd && p.estimatedAnnualQuantity !== null) {
      doc.estimation.push({
        cadTrustEstimationId: keys.child('estimation', p.key), estimationStartDate: p.creditingPeriodStart, estimationEndDate: p.creditingPeriodEnd,
        estimationUnitCount: Math.round(p.estimatedAnnualQuantity * years(p.creditingPeriodStart, p.creditingPeriodEnd)), cadTrustProjectId: id,
      });
    }
    for (const code of p.coBenefits) {
      const value = v2CoBenefit(code);
      if (value) doc['co-benefit'].push({ cadTrustCobenefitId: keys.child('co-benefit', `${p.key}|${code}`), cobenefit: value, cadTrustProjectId: id });
    }
  }
  doc.methodology.push(...methodologies.values());

  // Issuances, each with the verification of its monitoring period.
  const issuanceIds = new Map<number, string>();
  const addIssuance = (i: SliceIssuance, project: SliceProject, id: string) => {
    const verification = keys.child('verification', id);
    const issuanceId = i.cadtIssuanceId ?? i.issuanceKey;
    gap('verification.verificationBody');
    doc.verification.push(compact({
      cadTrustVerificationId: verification, verificationId: issuanceId, verificationStartDate: i.vintageStart, verificationEndDate: i.vintageEnd,
      cadTrustProjectId: projectIds.get(project.id),
    }));
    if (!firstMethodology.has(project.id)) gap('issuance.cadTrustProjectMethodologyId');
    if (!locations.has(project.id)) gap('issuance.cadTrustLocationId');
    doc.issuance.push(compact({
      cadTrustIssuanceId: id, issuanceId, issuanceDate: i.issuedOn, cadTrustVerificationId: verification,
      cadTrustProjectMethodologyId: firstMethodology.get(project.id), cadTrustLocationId: locations.get(project.id),
    }));
  };
  for (const i of slice.issuances) {
    const id = keys.issuance(i);
    issuanceIds.set(i.id, id);
    addIssuance(i, projects.get(i.projectId)!, id);
  }
  const standIns = new Map<string, string>();
  const issuanceOfBlock = (b: LedgerSlice['blocks'][number]) => {
    if (b.issuanceId !== null && issuanceIds.has(b.issuanceId)) return issuanceIds.get(b.issuanceId)!;
    const project = projects.get(b.projectId)!;
    const name = `${project.key}|vintage ${b.vintageYear ?? 'unknown'}`;
    let id = standIns.get(name);
    if (!id) {
      id = nameUuid('issuance', name);
      standIns.set(name, id);
      addIssuance({
        id: -1, projectId: project.id, issuanceKey: `${project.registryProjectId} vintage ${b.vintageYear ?? 'unknown'}`, vintageStart: null, vintageEnd: null,
        vintageYear: b.vintageYear, issuedOn: null, quantity: 0, cadtIssuanceId: null,
      }, project, id);
    }
    return id;
  };

  // Labels first, so a unit whose authorization a label carries does not repeat it as its ITMO reference.
  const labelled = new Set<number>();
  const blocks = new Map(slice.blocks.map((b) => [b.id, b]));
  for (const l of slice.labels) {
    const id = keys.label(l);
    doc.label.push(compact({ cadTrustLabelId: id, labelName: l.label, labelType: v2LabelType(l.labelType), labelLink: l.labelLink, labelDate: l.validityPeriodStart }));
    for (const blockId of l.blockIds) {
      const block = blocks.get(blockId);
      if (!block) continue;
      if (l.labelType === 'letter-of-authorization') labelled.add(blockId);
      if (!l.validityPeriodStart) gap('unit-label.labelUnitDate');
      doc['unit-label'].push(compact({
        cadTrustUnitLabelId: keys.child('unit-label', `${id}|${keys.unit(block)}`), cadTrustLabelId: id, cadTrustUnitId: keys.unit(block), labelUnitDate: l.validityPeriodStart,
      }));
    }
  }
  for (const b of slice.blocks) {
    const numbered = b.serialStart !== null && b.serialEnd !== null;
    // v2 has no Exported or Pending Export: the reason says what the status cannot.
    const reason = b.retirementReason ?? (b.status === 'exported' ? 'Exported' : b.status === 'pending-export' ? 'Pending export' : null);
    if (!numbered) gap('unit.unitStartBlock');
    if (b.vintageYear === null) gap('unit.unitVintageYear');
    if (!reason) gap('unit.unitStatusReason');
    if (!b.statusDate) gap('unit.unitStatusDate');
    doc.unit.push(compact({
      cadTrustUnitId: keys.unit(b),
      unitSerialId: b.serialRaw ?? b.blockKey,
      unitStartBlock: numbered ? String(b.serialStart) : null,
      unitEndBlock: numbered ? String(b.serialEnd) : null,
      unitCount: b.quantity,
      unitType: v2UnitType(b.unitType),
      unitVintageYear: b.vintageYear,
      unitStatus: v2UnitStatus(b.status),
      unitStatusReason: reason,
      unitStatusDate: b.statusDate,
      unitRetirementDetail: b.retirementDetails,
      unitRetirementBeneficiary: b.retirementBeneficiary,
      unitMetric: 'tCO2e',
      unitCurrentOwner: b.accountHolder,
      unitItmosReferenceId: labelled.has(b.id) ? null : b.article6Authorization,
      cadTrustIssuanceId: issuanceOfBlock(b),
    }));
  }
  return { document: Object.fromEntries(Object.entries(doc).filter(([, list]) => list.length > 0)), gaps };
}
