import { countryByCode, term } from '../../schema/taxonomy/index.ts';
import { cadtRegistryName, registryOfCadtName } from './registries.ts';
import { sliceKeys, type LedgerSlice } from './slice.ts';
import { years } from './core.ts';
import { v2Country } from './v2-terms.ts';
import type { CadtTable } from './v1.ts';

// A slice of the ledger as CAD Trust v1 tables (reference/cadt.md §1.2), in the form Tally's v1 upload
// reads (connectors/cad-trust/README.md): projects with their locations, estimations, related projects
// and co-benefits, issuances, units, labels and the units each label covers. Keys are the UUIDs the
// records came with where they came from a CAD Trust upload, else stable UUIDs derived from Tally's keys.
// Values are CAD Trust's picklist spellings. What v1 has no field for (a block's retirement beneficiary,
// an issuance's quantity and levies) is not written.

export type CadtV1Row = Record<string, string | number | null>;
export type CadtV1Document = Partial<Record<CadtTable, CadtV1Row[]>>;

/** The tables an export writes, in the order a workbook's sheets and a JSON document's keys follow. */
export const V1_EXPORT_TABLES = ['projects', 'projectLocations', 'estimations', 'relatedProjects', 'coBenefits', 'issuances', 'units', 'labels', 'label_units'] as const;

/** The columns each exported table has, so an empty table still shows what it would hold. */
export const V1_EXPORT_COLUMNS: Record<(typeof V1_EXPORT_TABLES)[number], readonly string[]> = {
  projects: ['warehouseProjectId', 'currentRegistry', 'projectId', 'originProjectId', 'registryOfOrigin', 'projectName', 'projectLink', 'projectDeveloper',
    'sector', 'projectType', 'coveredByNDC', 'projectStatus', 'unitMetric', 'methodology'],
  projectLocations: ['id', 'warehouseProjectId', 'country', 'inCountryRegion', 'geographicIdentifier'],
  estimations: ['id', 'warehouseProjectId', 'creditingPeriodStart', 'creditingPeriodEnd', 'unitCount'],
  relatedProjects: ['id', 'warehouseProjectId', 'relatedProjectId', 'relationshipType', 'registry'],
  coBenefits: ['id', 'warehouseProjectId', 'cobenefit'],
  issuances: ['id', 'warehouseProjectId', 'startDate', 'endDate'],
  units: ['warehouseUnitId', 'issuanceId', 'warehouseProjectId', 'unitOwner', 'serialNumberBlock', 'unitBlockStart', 'unitBlockEnd', 'unitCount', 'vintageYear',
    'unitType', 'unitStatus', 'unitStatusReason', 'unitRegistryLink', 'correspondingAdjustmentDeclaration', 'correspondingAdjustmentStatus'],
  labels: ['id', 'warehouseProjectId', 'label', 'labelType', 'creditingPeriodStartDate', 'creditingPeriodEndDate', 'validityPeriodStartDate',
    'validityPeriodEndDate', 'unitQuantity', 'labelLink'],
  label_units: ['id', 'labelId', 'warehouseUnitId'],
};

/** A Tally term as CAD Trust spells it (the `cadt` spelling of the vocabulary), or null. */
const cadt = (vocabulary: Parameters<typeof term>[0], code: string | null) => (code ? term(vocabulary, code)?.cadt ?? null : null);

/** A country as CAD Trust names it: the v2 governance list's name where it has one, else Tally's English name. */
export const cadtCountryName = (code: string) => v2Country(code) ?? countryByCode(code)?.en ?? code;

export function cadtV1Tables(slice: LedgerSlice): CadtV1Document {
  const keys = sliceKeys(slice);
  const doc: Record<(typeof V1_EXPORT_TABLES)[number], CadtV1Row[]> = {
    projects: [], projectLocations: [], estimations: [], relatedProjects: [], coBenefits: [], issuances: [], units: [], labels: [], label_units: [],
  };
  const projectIds = new Map(slice.projects.map((p) => [p.id, keys.project(p)]));
  const projects = new Map(slice.projects.map((p) => [p.id, p]));
  for (const p of slice.projects) {
    const id = projectIds.get(p.id)!;
    const origin = p.otherPrograms?.find((o) => o.relation === 'converted-from' && o.projectId);
    const originName = origin?.program ? (registryOfCadtName(origin.program) ? origin.program : cadtRegistryName(origin.program, origin.program)) : null;
    doc.projects.push({
      warehouseProjectId: id,
      currentRegistry: cadtRegistryName(p.registry, slice.registries.get(p.registry)?.name),
      projectId: p.registryProjectId,
      originProjectId: origin?.projectId ?? null,
      registryOfOrigin: originName,
      projectName: p.name,
      projectLink: p.registryUrl,
      projectDeveloper: p.proponent,
      sector: cadt('projectSector', p.sector),
      projectType: cadt('cadtProjectType', p.cadtProjectType),
      coveredByNDC: cadt('coveredByNdc', p.coveredByNdc),
      projectStatus: cadt('projectStatus', p.status),
      unitMetric: 'tCO2e',
      methodology: p.methodologyRaw,
    });
    if (p.country) {
      doc.projectLocations.push({
        id: keys.child('location', p.key), warehouseProjectId: id, country: cadtCountryName(p.country), inCountryRegion: p.region,
        geographicIdentifier: p.latitude !== null && p.longitude !== null ? `${p.latitude}, ${p.longitude}` : null,
      });
    }
    if (p.creditingPeriodStart || p.creditingPeriodEnd) {
      // v1 estimations count the units expected over their period; Tally keeps a yearly figure.
      const span = p.creditingPeriodStart && p.creditingPeriodEnd ? years(p.creditingPeriodStart, p.creditingPeriodEnd) : undefined;
      doc.estimations.push({
        id: keys.child('estimation', p.key), warehouseProjectId: id, creditingPeriodStart: p.creditingPeriodStart, creditingPeriodEnd: p.creditingPeriodEnd,
        unitCount: span !== undefined && p.estimatedAnnualQuantity !== null ? Math.round(p.estimatedAnnualQuantity * span) : null,
      });
    }
    for (const o of p.otherPrograms ?? []) {
      if (o.relation !== 'same-activity' || !o.projectId) continue;
      doc.relatedProjects.push({
        id: keys.child('related', `${p.key}|${o.program ?? ''}|${o.projectId}`), warehouseProjectId: id, relatedProjectId: o.projectId,
        relationshipType: 'Same activity', registry: o.program ? (registryOfCadtName(o.program) ? o.program : cadtRegistryName(o.program, o.program)) : null,
      });
    }
    for (const code of p.coBenefits) {
      const value = cadt('coBenefit', code);
      if (value) doc.coBenefits.push({ id: keys.child('co-benefit', `${p.key}|${code}`), warehouseProjectId: id, cobenefit: value });
    }
  }
  const issuanceIds = new Map(slice.issuances.map((i) => [i.id, keys.issuance(i)]));
  for (const i of slice.issuances) {
    doc.issuances.push({ id: issuanceIds.get(i.id)!, warehouseProjectId: projectIds.get(i.projectId)!, startDate: i.vintageStart, endDate: i.vintageEnd });
  }
  const unitIds = new Map(slice.blocks.map((b) => [b.id, keys.unit(b)]));
  for (const b of slice.blocks) {
    const numbered = b.serialStart !== null && b.serialEnd !== null;
    doc.units.push({
      warehouseUnitId: unitIds.get(b.id)!,
      issuanceId: b.issuanceId !== null ? issuanceIds.get(b.issuanceId) ?? null : null,
      warehouseProjectId: projectIds.get(b.projectId)!,
      unitOwner: b.accountHolder,
      serialNumberBlock: b.serialRaw,
      unitBlockStart: numbered ? b.serialStart : null,
      unitBlockEnd: numbered ? b.serialEnd : null,
      unitCount: b.quantity,
      vintageYear: b.vintageYear,
      unitType: cadt('unitType', b.unitType),
      unitStatus: cadt('unitStatus', b.status),
      unitStatusReason: b.retirementReason,
      unitRegistryLink: projects.get(b.projectId)?.registryUrl ?? null,
      correspondingAdjustmentDeclaration: cadt('caDeclaration', b.caDeclaration),
      correspondingAdjustmentStatus: cadt('caStatus', b.caStatus),
    });
  }
  for (const l of slice.labels) {
    const id = keys.label(l);
    doc.labels.push({
      id, warehouseProjectId: projectIds.get(l.projectId)!, label: l.label, labelType: cadt('labelType', l.labelType),
      creditingPeriodStartDate: l.creditingPeriodStart, creditingPeriodEndDate: l.creditingPeriodEnd, validityPeriodStartDate: l.validityPeriodStart,
      validityPeriodEndDate: l.validityPeriodEnd, unitQuantity: l.unitQuantity, labelLink: l.labelLink,
    });
    for (const blockId of l.blockIds) {
      const unit = unitIds.get(blockId);
      if (unit) doc.label_units.push({ id: keys.child('label-unit', `${id}|${unit}`), labelId: id, warehouseUnitId: unit });
    }
  }
  return doc;
}
