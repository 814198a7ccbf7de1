import type { BlockRecord, CanonicalInput, IssuanceRecord, LabelRecord, ProjectRecord } from '../../schema/canonical.ts';
import { resolveCountry } from '../../schema/taxonomy/index.ts';
import { rowReader, tokenizationMarker } from '../runtime/row.ts';
import type { Mapped, RowError } from '../types.ts';
import { A64_REGISTRY, a64LevyOf, usePurposeOf } from './a64.ts';
import { coordinates, creditingOf, type Estimation, type LedgerProject } from './map-upload.ts';
import { ACCEPTED_REGISTRY_NAMES, registryOfCadtName, type NationalRegistry } from './registries.ts';
import { registrySerialRange } from './serials.ts';
import { V2_KEY, type V2Entity, type V2Problem, type V2Row } from './v2.ts';
import {
  ACCEPTED_UNIT_STATUSES, coBenefitOfV2, labelTypeOfV2, projectStatusOfV2, unitStatusOfV2, unitTypeOfV2, V2_PICKLISTS,
} from './v2-terms.ts';

// One CAD Trust v2 upload, every entity together, to canonical records (connectors/cad-trust/README.md,
// "CAD Trust v2"). v2 records refer to each other by UUID: a unit to its issuance, the issuance to its
// verification, project methodology and location, those to their project. What a record refers to is
// looked for in the upload, then among the v2 records of the organization's earlier uploads (`earlier`,
// looked up by the job); a project of an earlier upload is the ledger project that upload stored. Each
// record gets its canonical records, its errors and its warnings, by locator.

/** Records of earlier uploads the upload refers to, by entity and key, as they were uploaded. */
export type V2Earlier = ReadonlyMap<V2Entity, ReadonlyMap<string, Record<string, unknown>>>;

export type CadtV2Ledger = {
  /** Registry slug → how it numbers serials (`kyoto`, `per-issuance`…). */
  serialSchemes: ReadonlyMap<string, string>;
  earlier: V2Earlier;
  /** The ledger project each earlier v2 project (by `cadTrustProjectId`) became. */
  earlierProjects: ReadonlyMap<string, LedgerProject>;
};

/** The foreign keys of each entity: field → the entity it names. */
export const V2_REFERENCES: Record<V2Entity, [string, V2Entity][]> = {
  program: [], methodology: [], label: [],
  project: [['cadTrustProgramId', 'program']],
  stakeholder: [['cadTrustProjectId', 'project']],
  'stakeholder-projects': [['cadTrustStakeholderId', 'stakeholder'], ['cadTrustProjectId', 'project']],
  'project-methodology': [['cadTrustProjectId', 'project'], ['cadTrustMethodologyId', 'methodology']],
  validation: [['cadTrustProjectId', 'project']],
  verification: [['cadTrustProjectId', 'project'], ['cadTrustValidationId', 'validation']],
  location: [['cadTrustProjectId', 'project']],
  estimation: [['cadTrustProjectId', 'project']],
  rating: [['cadTrustProjectId', 'project']],
  'co-benefit': [['cadTrustProjectId', 'project']],
  issuance: [['cadTrustVerificationId', 'verification'], ['cadTrustProjectMethodologyId', 'project-methodology'], ['cadTrustLocationId', 'location']],
  unit: [['cadTrustIssuanceId', 'issuance']],
  'unit-label': [['cadTrustUnitId', 'unit'], ['cadTrustLabelId', 'label']],
};

/** A record's fields as cell text: lists and records as JSON, null as empty. */
const cells = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)]));

const idText = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined);

/** The keys an upload's records name that are neither in the upload nor in `known`, by entity. */
export function cadtV2References(records: readonly { entity: V2Entity; values: Record<string, unknown> }[], known: V2Earlier): Map<V2Entity, string[]> {
  const present = new Set(records.flatMap((r) => {
    const id = idText(r.values[V2_KEY[r.entity]]);
    return id ? [`${r.entity}|${id}`] : [];
  }));
  const wanted = new Map<V2Entity, Set<string>>();
  for (const { entity, values } of records) {
    for (const [field, target] of V2_REFERENCES[entity]) {
      const id = idText(values[field]);
      if (!id || present.has(`${target}|${id}`) || known.get(target)?.has(id)) continue;
      wanted.set(target, (wanted.get(target) ?? new Set()).add(id));
    }
  }
  return new Map([...wanted].map(([entity, ids]) => [entity, [...ids]]));
}

/** The registry and id a v2 project record names, for earlier projects looked up in the ledger. */
export function projectKeyOfV2(values: Record<string, unknown>): { registry: string; registryProjectId: string } | undefined {
  const name = idText(values.projectRegistryName);
  const id = idText(values.projectId);
  const registry = name ? registryOfCadtName(name) : undefined;
  return registry && id ? { registry: registry.slug, registryProjectId: id } : undefined;
}

type ProjectRef = { registry: string; registryProjectId: string };
type Reader = ReturnType<typeof reader>;

function reader(row: V2Row) {
  const r = rowReader(cells(row.values), row.locator);
  const warnings: RowError[] = [];
  return {
    ...r,
    warnings,
    warn: (field: string, code: string, message: string) => warnings.push({ locator: row.locator, field, code, message: `${row.locator}: ${field}: ${message}` }),
    /** A picklist value read through `read`; a value it does not know is a row error listing the accepted ones. */
    pick<T>(field: string, read: (value: string) => T | undefined, accepted: string, required = false): T | undefined {
      const value = r.text(field);
      if (value === undefined) {
        if (required) r.fail(field, 'missing', 'is empty');
        return undefined;
      }
      const found = read(value);
      if (found === undefined) r.fail(field, 'not-in-picklist', `"${value}" is not a CAD Trust v2 ${field} value (accepted: ${accepted})`);
      return found;
    },
  };
}

/** A CDM project a reference names (`CDM-10471`, `CDM PoA 10471`): the activity an A6.4 project transitioned from. */
export function cdmReference(value: string | undefined): string | undefined {
  return value?.trim().match(/^CDM[\s_-]*(?:PoA[\s_-]*|PA[\s_-]*)?(?:ref(?:erence)?[\s_.-]*)?(\d+)$/i)?.[1];
}

/** Maps every record of one v2 upload; the result is keyed by locator. */
export function mapCadtV2Upload(rows: readonly V2Row[], problems: readonly V2Problem[], ledger: CadtV2Ledger): { mapped: Map<string, Mapped>; nationalRegistries: NationalRegistry[] } {
  const mapped = new Map<string, Mapped>();
  const readers = new Map<V2Row, Reader>();
  const readerOf = (row: V2Row) => {
    let r = readers.get(row);
    if (!r) readers.set(row, (r = reader(row)));
    return r;
  };
  const records = new Map<V2Row, CanonicalInput[]>();
  const emit = (row: V2Row, ...found: CanonicalInput[]) => records.set(row, [...(records.get(row) ?? []), ...found]);
  const national = new Map<string, NationalRegistry>();

  // ---- the upload's records by entity and key ----
  const here = new Map<V2Entity, Map<string, V2Row>>();
  for (const row of rows) {
    const r = readerOf(row);
    const keyField = V2_KEY[row.entity];
    const joins = row.entity === 'unit-label' || row.entity === 'stakeholder-projects';
    if (!row.id) {
      if (!joins) r.fail(keyField, 'missing', `is empty: a CAD Trust v2 ${row.entity} is known by its ${keyField}`);
      continue;
    }
    const byId = here.get(row.entity) ?? new Map<string, V2Row>();
    here.set(row.entity, byId);
    if (byId.has(row.id)) r.fail(keyField, 'duplicate-record', `${row.entity} ${row.id} is already at ${byId.get(row.id)!.locator}`);
    else byId.set(row.id, row);
  }
  const of = (entity: V2Entity) => rows.filter((row) => row.entity === entity);
  /** A record by key: in the upload, else of an earlier upload. */
  const find = (entity: V2Entity, id: string | undefined): { values: Record<string, unknown>; row?: V2Row } | undefined => {
    if (!id) return undefined;
    const row = here.get(entity)?.get(id);
    if (row) return { values: row.values, row };
    const values = ledger.earlier.get(entity)?.get(id);
    return values ? { values } : undefined;
  };
  /** A reference that must resolve: reports it when it does not. */
  const follow = (r: Reader, values: Record<string, unknown>, field: string, target: V2Entity, required: boolean) => {
    const id = idText(values[field]);
    if (!id) {
      if (required) r.fail(field, 'missing', 'is empty');
      return undefined;
    }
    const found = find(target, id);
    if (!found) r.fail(field, `unknown-${target}`, `${target} ${id} is neither in this upload nor in an earlier CAD Trust v2 upload of this organization`);
    return found;
  };

  // ---- projects of the upload ----
  type Project = ProjectRef & { row: V2Row; country: string | null; methodology: string | null; record: ProjectRecord & { eligibility: string[]; coBenefits: string[] } };
  const projects = new Map<string, Project>();
  const projectKeys = new Map<string, string>();
  for (const row of of('project')) {
    const r = readerOf(row);
    const registryName = r.required('projectRegistryName', r.text('projectRegistryName'));
    const registry = registryName ? registryOfCadtName(registryName) : undefined;
    if (registryName && !registry) r.fail('projectRegistryName', 'unknown-registry', `"${registryName}" is not a registry Tally knows (accepted: ${ACCEPTED_REGISTRY_NAMES})`);
    const registryProjectId = r.required('projectId', r.text('projectId'));
    const name = r.required('projectName', r.text('projectName'));
    const link = r.text('projectLink');
    if (link && !/^https?:\/\/\S+$/i.test(link)) r.fail('projectLink', 'not-a-url', `"${link}" is not a web address`);
    const statusRaw = r.text('projectStatus');
    const status = r.pick('projectStatus', projectStatusOfV2, V2_PICKLISTS.project_status.join(', '));
    const statusDate = r.date('projectStatusDate');
    const key = registry && registryProjectId ? `${registry.slug}:${registryProjectId}` : undefined;
    if (key && projectKeys.has(key)) r.fail('projectId', 'duplicate-project', `project ${registryProjectId} of ${registryName} is already at ${projectKeys.get(key)}`);
    else if (key) projectKeys.set(key, row.locator);
    // A CDM activity that transitioned to the mechanism names its CDM project in the reference id.
    const reference = r.text('cadTrustReferenceProjectId');
    const cdm = cdmReference(reference);
    if (reference && !cdm) r.warn('cadTrustReferenceProjectId', 'reference-not-read', `"${reference}" names no CDM activity (CDM-<reference number>); kept as received only`);
    if (row.id) {
      projects.set(row.id, {
        row, registry: registry?.slug ?? '', registryProjectId: registryProjectId ?? '', country: null, methodology: null,
        record: {
          type: 'project', registry: registry?.slug ?? '', registryProjectId: registryProjectId ?? '', name: name ?? '',
          status: (status ?? undefined) as ProjectRecord['status'], statusRaw,
          registeredOn: status === 'registered' ? statusDate : undefined,
          registryUrl: link && /^https?:\/\//i.test(link) ? link : undefined,
          eligibility: [], coBenefits: [],
          ...(cdm && registry?.slug !== 'cdm' ? { otherPrograms: [{ program: 'CDM', projectId: cdm, relation: 'converted-from' as const, field: 'cadTrustReferenceProjectId' }] } : {}),
        },
      });
    }
    if (registry?.national && r.errors.length === 0) national.set(registry.slug, registry.national);
    if (idText(row.values.cadTrustProgramId) && !find('program', idText(row.values.cadTrustProgramId))) {
      r.warn('cadTrustProgramId', 'unknown-program', `program ${idText(row.values.cadTrustProgramId)} is not in this upload; the project is read without it`);
    }
  }

  /** A project by key: of this upload, else the ledger project an earlier upload stored. */
  const projectRef = (id: string | undefined): (ProjectRef & { country: string | null; methodology: string | null }) | undefined => {
    if (!id) return undefined;
    const p = projects.get(id);
    if (p) return p;
    return ledger.earlierProjects.get(id);
  };
  /** The upload's own project a child row describes (a project's children come with it). */
  const parentOf = (row: V2Row, r: Reader): Project | undefined => {
    const id = r.required('cadTrustProjectId', r.text('cadTrustProjectId'));
    if (!id) return undefined;
    const project = projects.get(id);
    if (!project) {
      r.fail('cadTrustProjectId', ledger.earlierProjects.has(id) ? 'project-not-in-upload' : 'unknown-project', ledger.earlierProjects.has(id)
        ? `project ${id} is from an earlier upload: a project's ${row.entity} records are uploaded with the project`
        : `project ${id} is neither in this upload nor in an earlier CAD Trust v2 upload of this organization`);
    }
    return project;
  };

  // ---- what describes a project: locations, estimations, methodologies, stakeholders, co-benefits ----
  for (const row of of('location')) {
    const r = readerOf(row);
    const project = parentOf(row, r);
    const country = r.required('locationCountry', r.text('locationCountry'));
    const resolved = country ? resolveCountry(country) : undefined;
    if (country && !resolved) r.fail('locationCountry', 'unknown-country', `"${country}" is not a country Tally knows (an English name or ISO 3166 code)`);
    const place = coordinates(r, 'locationGis', r.text('locationGis'));
    if (project && r.errors.length === 0 && project.country === null) {
      // The first location of a project gives its country, region and coordinates.
      project.country = resolved!.code;
      project.record.country = country;
      project.record.region = r.text('locationRegion');
      if (place) Object.assign(project.record, place);
    }
  }
  const estimations = new Map<Project, Estimation[]>();
  for (const row of of('estimation')) {
    const r = readerOf(row);
    const project = parentOf(row, r);
    const start = r.required('estimationStartDate', r.date('estimationStartDate'));
    const end = r.required('estimationEndDate', r.date('estimationEndDate'));
    const units = r.number('estimationUnitCount');
    if (units !== undefined && units < 0) r.fail('estimationUnitCount', 'negative', `${units} is negative`);
    if (start && end && end < start) r.fail('estimationEndDate', 'period-order', `${end} is before estimationStartDate ${start}`);
    if (project && r.errors.length === 0) estimations.set(project, [...(estimations.get(project) ?? []), { start, end, units }]);
  }
  const validationPeriods = new Map<Project, Estimation[]>();
  for (const row of of('validation')) {
    const r = readerOf(row);
    const project = parentOf(row, r);
    const start = r.date('validationCreditPeriodStartDate');
    const end = r.date('validationCreditPeriodEndDate');
    if (start && end && end < start) r.fail('validationCreditPeriodEndDate', 'period-order', `${end} is before validationCreditPeriodStartDate ${start}`);
    if (project && r.errors.length === 0 && (start || end)) validationPeriods.set(project, [...(validationPeriods.get(project) ?? []), { start, end }]);
  }
  for (const project of projects.values()) {
    // Estimations give the crediting period and the expected units; a validation's credit period stands in.
    const own = estimations.get(project);
    Object.assign(project.record, creditingOf(own ?? validationPeriods.get(project) ?? []));
  }
  const methodologies = new Map<Project, string[]>();
  for (const row of of('project-methodology')) {
    const r = readerOf(row);
    const project = parentOf(row, r);
    const methodology = follow(r, row.values, 'cadTrustMethodologyId', 'methodology', true);
    const code = methodology ? idText(methodology.values.methodologyCode) ?? idText(methodology.values.methodologyName) : undefined;
    if (project && code && r.errors.length === 0) methodologies.set(project, [...(methodologies.get(project) ?? []), code]);
  }
  for (const [project, codes] of methodologies) {
    project.methodology = [...new Set(codes)].join('; ');
    project.record.methodology = project.methodology;
  }
  for (const row of of('methodology')) {
    const r = readerOf(row);
    r.required('methodologyCode', r.text('methodologyCode'));
  }
  // Stakeholders: the developer (else the owner) is the project's proponent.
  const stakeholderProjects = new Map<string, string[]>(); // stakeholder → projects, from the join records
  for (const row of of('stakeholder-projects')) {
    const r = readerOf(row);
    const stakeholder = follow(r, row.values, 'cadTrustStakeholderId', 'stakeholder', true);
    const project = parentOf(row, r);
    if (stakeholder && project) stakeholderProjects.set(idText(row.values.cadTrustStakeholderId)!, [...(stakeholderProjects.get(idText(row.values.cadTrustStakeholderId)!) ?? []), project.row.id!]);
  }
  const proponents = new Map<Project, { name: string; rank: number }>();
  for (const row of of('stakeholder')) {
    const r = readerOf(row);
    const name = r.required('stakeholderName', r.text('stakeholderName'));
    const type = r.pick('stakeholderType', (v) => V2_PICKLISTS.stakeholder_type.find((t) => t.toLowerCase() === v.toLowerCase()), V2_PICKLISTS.stakeholder_type.join(', '));
    const direct = r.text('cadTrustProjectId');
    const ids = [...(direct ? [direct] : []), ...(row.id ? stakeholderProjects.get(row.id) ?? [] : [])];
    if (direct && !projects.has(direct)) parentOf(row, r);
    const rank = type === 'Developer' ? 0 : type === 'Owner' ? 1 : 2;
    for (const id of ids) {
      const project = projects.get(id);
      if (!project || !name || rank === 2 || r.errors.length > 0) continue;
      const current = proponents.get(project);
      if (!current || rank < current.rank) proponents.set(project, { name, rank });
    }
  }
  for (const [project, p] of proponents) project.record.proponent = p.name;
  for (const row of of('co-benefit')) {
    const r = readerOf(row);
    const project = parentOf(row, r);
    const value = r.required('cobenefit', r.text('cobenefit'));
    const code = value ? coBenefitOfV2(value) : undefined;
    if (value && !code) r.warn('cobenefit', 'unknown-co-benefit', `"${value}" is not a CAD Trust co-benefit (an SDG); left out`);
    if (project && code && !project.record.coBenefits.includes(code)) project.record.coBenefits.push(code);
  }
  for (const row of of('rating')) {
    const r = readerOf(row);
    parentOf(row, r);
    r.warn('ratingType', 'not-stored', 'ratings are kept as received but not yet stored in the ledger');
  }
  for (const row of of('program')) readerOf(row).required('programName', readerOf(row).text('programName'));
  for (const project of projects.values()) emit(project.row, project.record);

  // ---- verifications: the monitoring period an issuance credits ----
  const verificationOf = (values: Record<string, unknown>) => ({
    project: idText(values.cadTrustProjectId), start: idText(values.verificationStartDate)?.slice(0, 10), end: idText(values.verificationEndDate)?.slice(0, 10),
  });
  for (const row of of('verification')) {
    const r = readerOf(row);
    r.required('verificationId', r.text('verificationId'));
    const project = r.required('cadTrustProjectId', r.text('cadTrustProjectId'));
    if (project && !projectRef(project)) r.fail('cadTrustProjectId', 'unknown-project', `project ${project} is neither in this upload nor in an earlier CAD Trust v2 upload of this organization`);
    const start = r.date('verificationStartDate');
    const end = r.date('verificationEndDate');
    if (start && end && end < start) r.fail('verificationEndDate', 'period-order', `${end} is before verificationStartDate ${start}`);
    if (idText(row.values.cadTrustValidationId)) follow(r, row.values, 'cadTrustValidationId', 'validation', false);
  }

  // ---- issuances: their project through the verification, project methodology or location they name ----
  type Issuance = { id: string; project?: ProjectRef & { country: string | null; methodology: string | null }; vintageStart?: string; vintageEnd?: string; issuedOn?: string; row?: V2Row };
  const issuanceCache = new Map<string, Issuance | null>();
  /** An issuance of the upload or of an earlier one, with its project and monitoring period; errors go to `r` for the upload's own. */
  function issuanceOf(id: string, r?: Reader): Issuance | undefined {
    if (issuanceCache.has(id)) return issuanceCache.get(id) ?? undefined;
    const found = find('issuance', id);
    if (!found) return undefined;
    const report = found.row ? r ?? readerOf(found.row) : undefined;
    const values = found.values;
    const candidates: { field: string; project?: string }[] = [];
    let period: { start?: string; end?: string } = {};
    for (const [field, target] of V2_REFERENCES.issuance) {
      const ref = idText(values[field]);
      if (!ref) continue;
      const parent = find(target, ref);
      if (!parent) {
        report?.fail(field, `unknown-${target}`, `${target} ${ref} is neither in this upload nor in an earlier CAD Trust v2 upload of this organization`);
        continue;
      }
      if (target === 'verification') period = verificationOf(parent.values);
      candidates.push({ field, project: idText(parent.values.cadTrustProjectId) });
    }
    const named = [...new Set(candidates.flatMap((c) => (c.project ? [c.project] : [])))];
    if (candidates.length === 0 && report && report.errors.length === 0) {
      report.fail('cadTrustVerificationId', 'missing', 'is empty, and so are cadTrustProjectMethodologyId and cadTrustLocationId: nothing names the issuance\'s project');
    }
    if (named.length > 1) report?.fail('cadTrustLocationId', 'other-project', `the issuance's verification, project methodology and location belong to different projects (${named.join(', ')})`);
    const project = named.length === 1 ? projectRef(named[0]) : undefined;
    if (named.length === 1 && !project) report?.fail(candidates[0]!.field, 'unknown-project', `its project ${named[0]} is neither in this upload nor in an earlier CAD Trust v2 upload of this organization`);
    const issuance: Issuance = {
      id, project, row: found.row, vintageStart: period.start, vintageEnd: period.end, issuedOn: idText(values.issuanceDate)?.slice(0, 10),
    };
    issuanceCache.set(id, issuance);
    return issuance;
  }
  for (const row of of('issuance')) {
    const r = readerOf(row);
    r.required('issuanceId', r.text('issuanceId'));
    const issuedOn = r.date('issuanceDate');
    if (row.id) {
      const issuance = issuanceOf(row.id, r);
      if (issuance) issuance.issuedOn = issuedOn;
      if (issuance?.vintageStart && issuance.vintageEnd && issuance.vintageEnd < issuance.vintageStart) {
        r.fail('cadTrustVerificationId', 'period-order', `its verification ends (${issuance.vintageEnd}) before it starts (${issuance.vintageStart})`);
      }
    }
  }

  // ---- labels and the units they cover ----
  type Label = { id: string; labelType?: string; name?: string; link?: string; date?: string; row?: V2Row };
  const labels = new Map<string, Label>();
  const labelOf = (id: string): Label | undefined => {
    const known = labels.get(id);
    if (known) return known;
    const found = find('label', id);
    if (!found) return undefined;
    const label: Label = {
      id, row: found.row, name: idText(found.values.labelName), link: idText(found.values.labelLink), date: idText(found.values.labelDate)?.slice(0, 10),
      labelType: labelTypeOfV2(idText(found.values.labelType) ?? ''),
    };
    labels.set(id, label);
    return label;
  };
  for (const row of of('label')) {
    const r = readerOf(row);
    const name = r.required('labelName', r.text('labelName'));
    const type = r.text('labelType');
    if (!type) r.fail('labelType', 'missing', 'is empty');
    else if (!labelTypeOfV2(type) && !V2_PICKLISTS.label_type.some((t) => t.toLowerCase() === type.toLowerCase())) {
      r.fail('labelType', 'not-in-picklist', `"${type}" is not a CAD Trust v2 labelType value (accepted: ${V2_PICKLISTS.label_type.join(', ')})`);
    } else if (!labelTypeOfV2(type)) {
      r.warn('labelType', 'label-type-not-stored', `"${type}" has no Tally label type; the label is kept as received only`);
    }
    const date = r.date('labelDate');
    if (row.id && name) labels.set(row.id, { id: row.id, row, name, labelType: type ? labelTypeOfV2(type) : undefined, link: r.text('labelLink'), date });
  }
  const unitLabels = new Map<string, { label: Label; row: V2Row }[]>(); // unit → labels
  for (const row of of('unit-label')) {
    const r = readerOf(row);
    const unit = follow(r, row.values, 'cadTrustUnitId', 'unit', true);
    const labelId = idText(row.values.cadTrustLabelId);
    if (!labelId) r.fail('cadTrustLabelId', 'missing', 'is empty');
    const label = labelId ? labelOf(labelId) : undefined;
    if (labelId && !label) r.fail('cadTrustLabelId', 'unknown-label', `label ${labelId} is neither in this upload nor in an earlier CAD Trust v2 upload of this organization`);
    const unitId = idText(row.values.cadTrustUnitId)!;
    if (unit && label && r.errors.length === 0) unitLabels.set(unitId, [...(unitLabels.get(unitId) ?? []), { label, row }]);
  }

  // ---- units ----
  const numberSpace = (project: ProjectRef & { country: string | null }, r: Reader): string | undefined => {
    const scheme = ledger.serialSchemes.get(project.registry) ?? (project.registry.startsWith('national-') ? 'per-issuance' : undefined);
    if (scheme !== 'kyoto') return `${project.registry}:cadt:${project.registryProjectId}`;
    if (!project.country) {
      r.warn('unitStartBlock', 'country-unknown', "the project's country is not known, so its Kyoto serials cannot be placed; kept as text, not compared");
      return undefined;
    }
    return `cdm:${project.country}:5`;
  };
  type Totals = { quantity: number; shareOfProceeds: number; omge: number };
  const totals = new Map<string, Totals>();
  const blocks = new Map<string, { block: BlockRecord; project: ProjectRef }>(); // by unit key
  const blockKeys = new Map<string, string>();
  for (const row of of('unit')) {
    const r = readerOf(row);
    const issuanceId = r.required('cadTrustIssuanceId', r.text('cadTrustIssuanceId'));
    const issuance = issuanceId ? issuanceOf(issuanceId) : undefined;
    if (issuanceId && !issuance) {
      r.fail('cadTrustIssuanceId', 'unknown-issuance', `issuance ${issuanceId} is neither in this upload nor in an earlier CAD Trust v2 upload of this organization`);
    } else if (issuance && !issuance.project) {
      r.fail('cadTrustIssuanceId', 'unknown-project', `the project of issuance ${issuanceId} is not known (see that issuance's errors)`);
    }
    const project = issuance?.project;
    const quantity = r.quantity('unitCount');
    const status = r.pick('unitStatus', unitStatusOfV2, ACCEPTED_UNIT_STATUSES, true);
    const unitType = r.pick('unitType', unitTypeOfV2, V2_PICKLISTS.unit_type.join(', '));
    let vintageYear = r.number('unitVintageYear');
    if (vintageYear !== undefined && (!Number.isInteger(vintageYear) || vintageYear < 1990 || vintageYear > 2100)) {
      r.fail('unitVintageYear', 'invalid-year', `${vintageYear} is not a vintage year`);
      vintageYear = undefined;
    }
    const metric = r.text('unitMetric');
    if (metric && metric.toLowerCase() !== 'tco2e') r.fail('unitMetric', 'unit-metric', `"${metric}": Tally counts units in tCO2e only`);

    // The block: numbered from unitStartBlock to unitEndBlock, both included.
    const serialId = r.text('unitSerialId');
    const startText = r.text('unitStartBlock');
    const endText = r.text('unitEndBlock');
    const a = startText && /^\d+$/.test(startText) ? Number(startText) : undefined;
    const b = endText && /^\d+$/.test(endText) ? Number(endText) : undefined;
    let serial: BlockRecord['serial'];
    let serialRaw: string | undefined;
    if ((startText === undefined) !== (endText === undefined)) {
      r.fail(startText === undefined ? 'unitStartBlock' : 'unitEndBlock', 'missing', `is empty, but ${startText === undefined ? 'unitEndBlock' : 'unitStartBlock'} is given`);
    } else if (a !== undefined && b !== undefined && Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
      if (b < a) r.fail('unitEndBlock', 'serial-order', `${b} is before unitStartBlock ${a}`);
      else if (quantity !== undefined && b - a + 1 !== quantity) {
        r.fail('unitCount', 'serial-quantity-mismatch', `${quantity}, but the block from unitStartBlock ${a} to unitEndBlock ${b} holds ${b - a + 1} units (the range is inclusive: end − start + 1)`);
      } else if (project) {
        serial = registrySerialRange(project.registry, serialId, a, b);
        const space = serial ? undefined : numberSpace(project, r);
        if (space) serial = { numberSpace: space, start: a, end: b, raw: serialId ?? `${a}-${b}` };
        if (!serial) serialRaw = serialId ?? `${a}-${b}`;
      }
    } else if (project && serialId) {
      // Bounds that are not numbers (`A345`): the registry's own serial string may still place the block.
      serial = registrySerialRange(project.registry, serialId);
      if (serial && quantity !== undefined && serial.end - serial.start + 1 !== quantity) {
        r.fail('unitCount', 'serial-quantity-mismatch', `${quantity}, but unitSerialId ${serialId} holds ${serial.end - serial.start + 1} units`);
        serial = undefined;
      }
      if (!serial) serialRaw = startText !== undefined ? `${serialId} (${startText} … ${endText})` : serialId;
    } else if (startText !== undefined) {
      serialRaw = `${startText}-${endText}`;
    }

    const unitId = row.id;
    if (unitId && project) {
      const k = `${project.registry}|${unitId}`;
      if (blockKeys.has(k)) r.fail('cadTrustUnitId', 'duplicate-unit', `the same unit is already at ${blockKeys.get(k)}`);
      else blockKeys.set(k, row.locator);
    }

    // Article 6: a unit is authorized by an "Article 6 - Authorisation" label or an ITMO reference.
    const covering = unitId ? unitLabels.get(unitId) ?? [] : [];
    const authorization = covering.find((c) => c.label.labelType === 'letter-of-authorization')?.label.name ?? r.text('unitItmosReferenceId');
    const a64 = project?.registry === A64_REGISTRY;
    const texts = [r.text('unitCurrentOwner'), r.text('unitStatusReason'), r.text('unitRetirementDetail')];
    const levy = a64 ? a64LevyOf({ status: status ?? undefined, texts }) : undefined;
    const used = status === 'retired' || status === 'cancelled';
    if (project && unitId && quantity && status && r.errors.length === 0) {
      const block: BlockRecord = {
        type: 'block',
        registry: project.registry, registryProjectId: project.registryProjectId,
        blockKey: unitId,
        issuanceKey: issuanceId,
        ...(serial ? { serial } : serialRaw ? { serialRaw } : {}),
        quantity,
        vintageYear,
        vintageStart: issuance?.vintageStart, vintageEnd: issuance?.vintageEnd,
        creditType: a64 ? 'a64er' : project.registry === 'cdm' ? 'cer' : undefined,
        unitType: (unitType ?? undefined) as BlockRecord['unitType'],
        status: status as BlockRecord['status'],
        statusDate: r.date('unitStatusDate'),
        retirementReason: r.text('unitStatusReason'),
        retirementDetails: r.text('unitRetirementDetail'),
        retirementBeneficiary: r.text('unitRetirementBeneficiary'),
        retirementPurpose: used && levy !== 'omge' ? usePurposeOf(r.text('unitStatusReason'), r.text('unitRetirementDetail')) : undefined,
        accountHolder: r.text('unitCurrentOwner'),
        eligibility: [],
        article6Authorization: authorization,
        // An authorized A6.4ER carries a corresponding adjustment; a mitigation contribution A6.4ER does not.
        caDeclaration: authorization ? 'committed' : a64 ? 'not-required' : undefined,
        tokenizationMarker: tokenizationMarker(r.text('unitRetirementDetail'), r.text('unitRetirementBeneficiary')),
      };
      blocks.set(unitId, { block, project });
      emit(row, block);
      if (issuanceId) {
        const t = totals.get(issuanceId) ?? { quantity: 0, shareOfProceeds: 0, omge: 0 };
        t.quantity += quantity;
        if (levy === 'share-of-proceeds') t.shareOfProceeds += quantity;
        if (levy === 'omge') t.omge += quantity;
        totals.set(issuanceId, t);
      }
    }
  }

  // ---- issuance records: their quantity is their units' (CAD Trust issuances carry none) ----
  for (const row of of('issuance')) {
    const r = readerOf(row);
    const issuance = row.id ? issuanceCache.get(row.id) : undefined;
    const t = row.id ? totals.get(row.id) : undefined;
    if (!t) {
      r.warn('cadTrustIssuanceId', 'issuance-without-units', `no unit of this upload names issuance ${row.id ?? ''}; it is recorded with its units (its quantity is theirs)`);
      continue;
    }
    if (!issuance?.project || r.errors.length > 0) continue;
    const a64 = issuance.project.registry === A64_REGISTRY;
    const record: IssuanceRecord = {
      type: 'issuance', registry: issuance.project.registry, registryProjectId: issuance.project.registryProjectId, issuanceKey: row.id!,
      vintageStart: issuance.vintageStart, vintageEnd: issuance.vintageEnd, issuedOn: issuance.issuedOn,
      quantity: t.quantity, quantityFromBlocks: true, creditType: a64 ? 'a64er' : undefined,
      ...(a64 ? { shareOfProceedsQuantity: t.shareOfProceeds, omgeQuantity: t.omge } : {}),
    };
    emit(row, record);
  }

  // ---- label records: one per label and project, with the blocks of the upload it covers ----
  const perLabel = new Map<string, Map<string, { project: ProjectRef; blockKeys: string[]; emitter: V2Row }>>();
  for (const row of of('unit-label')) {
    const r = readerOf(row);
    if (r.errors.length > 0) continue;
    const unitId = idText(row.values.cadTrustUnitId)!;
    const label = labelOf(idText(row.values.cadTrustLabelId)!)!;
    const here = blocks.get(unitId);
    // A unit of an earlier upload: its project through its issuance.
    const earlierUnit = here ? undefined : ledger.earlier.get('unit')?.get(unitId);
    const project = here?.project ?? (earlierUnit ? issuanceOf(idText(earlierUnit.cadTrustIssuanceId) ?? '')?.project : undefined);
    if (!project) {
      if (!here && !earlierUnit) r.fail('cadTrustUnitId', 'unknown-unit', `unit ${unitId} has errors or no project; the label cannot be placed`);
      continue;
    }
    if (!label.labelType) continue;
    const byProject = perLabel.get(label.id) ?? new Map();
    perLabel.set(label.id, byProject);
    const key = `${project.registry}:${project.registryProjectId}`;
    const entry = byProject.get(key) ?? { project, blockKeys: [], emitter: label.row ?? row };
    byProject.set(key, entry);
    if (!entry.blockKeys.includes(unitId)) entry.blockKeys.push(unitId);
  }
  for (const [labelId, byProject] of perLabel) {
    const label = labels.get(labelId)!;
    for (const { project, blockKeys: keys, emitter } of byProject.values()) {
      const record: LabelRecord = {
        type: 'label', registry: project.registry, registryProjectId: project.registryProjectId, labelType: label.labelType as LabelRecord['labelType'],
        label: label.name!, labelLink: label.link, validityPeriodStart: label.date, blockKeys: keys,
      };
      emit(emitter, record);
    }
  }
  for (const row of of('label')) {
    if (row.id && !perLabel.has(row.id) && labels.get(row.id)?.labelType) {
      readerOf(row).warn('cadTrustLabelId', 'label-without-units', 'no unit of this upload carries the label; a CAD Trust v2 label belongs to a project through its units, so it is kept as received only');
    }
  }

  for (const row of rows) {
    const r = readerOf(row);
    mapped.set(row.locator, { records: r.errors.length > 0 ? [] : records.get(row) ?? [], errors: r.errors, warnings: r.warnings });
  }
  for (const problem of problems) {
    mapped.set(problem.locator, { records: [], errors: [{ locator: problem.locator, code: 'not-a-v2-record', message: problem.message }] });
  }
  return { mapped, nationalRegistries: [...national.values()] };
}
