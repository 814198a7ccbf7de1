import type { BlockRecord, ProjectRecord } from '../../schema/canonical.ts';
import type { Mapped } from '../types.ts';
import {
  authorizationOf, blockRange, blockRecord, creditingOf, creditTypeOf, IssuanceTotals, labelRecord, locate, ProjectKeys, ratingNotStored,
  readCoBenefit, readLocation, readProject, retirementPurposeOf, UnitKeys, UploadRows, vintageYearOf,
  type CadtForm, type CadtIssuance, type CadtProject, type CadtReader, type Estimation, type ProjectRef,
} from './core.ts';
import { registryOfCadtName, type NationalRegistry } from './registries.ts';
import { V2_KEY, type V2Entity, type V2Problem, type V2Row } from './v2.ts';
import { coBenefitOfV2, V2_TERMS } from './v2-terms.ts';

// One CAD Trust v2 upload, every entity together, to canonical records (connectors/cad-trust/README.md,
// "CAD Trust v2"). v2 records refer to each other by UUID: a unit to its issuance, the issuance to its
// verification, project methodology and location, those to their project. What a record refers to is
// looked for in the upload, then among the v2 records of the organization's earlier uploads (`earlier`,
// looked up by the job); a project of an earlier upload is the ledger project that upload stored. This
// module follows those references and finds each record's fields; `core.ts` reads and checks the values and
// makes the records. Each record gets its canonical records, its errors and its warnings, by locator.

/** Records of earlier uploads the upload refers to, by entity and key, as they were uploaded. */
export type V2Earlier = ReadonlyMap<V2Entity, ReadonlyMap<string, Record<string, unknown>>>;

export type CadtV2Ledger = {
  /** Registry slug → how it numbers serials (`kyoto`, `per-issuance`…). */
  serialSchemes: ReadonlyMap<string, string>;
  earlier: V2Earlier;
  /** The ledger project each earlier v2 project (by `cadTrustProjectId`) became. */
  earlierProjects: ReadonlyMap<string, ProjectRef>;
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

const V2: CadtForm = { name: 'CAD Trust v2', elsewhere: 'an earlier CAD Trust v2 upload of this organization' };

const PROJECT_FIELDS = { registry: 'projectRegistryName', projectId: 'projectId', name: 'projectName', link: 'projectLink' };
const LOCATION_FIELDS = { country: 'locationCountry', region: 'locationRegion', gis: 'locationGis' };
const RANGE_FIELDS = { start: 'unitStartBlock', end: 'unitEndBlock', serial: 'unitSerialId', count: 'unitCount' };

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

/** A CDM project a reference names (`CDM-10471`, `CDM PoA 10471`): the activity an A6.4 project transitioned from. */
export function cdmReference(value: string | undefined): string | undefined {
  return value?.trim().match(/^CDM[\s_-]*(?:PoA[\s_-]*|PA[\s_-]*)?(?:ref(?:erence)?[\s_.-]*)?(\d+)$/i)?.[1];
}

/** A v2 issuance: its project comes through its verification, project methodology or location, its vintage through the verification. */
type Issuance = CadtIssuance & { project?: ProjectRef };
/** A v2 label: it belongs to no project; the units it covers do. */
type Label = { id: string; labelType?: string; label?: string; labelLink?: string; date?: string; row?: V2Row };

/** Maps every record of one v2 upload; the result is keyed by locator. */
export function mapCadtV2Upload(rows: readonly V2Row[], problems: readonly V2Problem[], ledger: CadtV2Ledger): { mapped: Map<string, Mapped>; nationalRegistries: NationalRegistry[] } {
  const upload = new V2Upload(rows, ledger);
  const mapped = upload.map();
  for (const problem of problems) {
    mapped.set(problem.locator, { records: [], errors: [{ locator: problem.locator, code: 'not-a-v2-record', message: problem.message }] });
  }
  return { mapped, nationalRegistries: upload.nationalRegistries() };
}

/** One v2 upload being mapped: entities are read parents first, and each keeps what later ones refer to. */
class V2Upload {
  readonly #rows = new UploadRows<V2Row>(V2, (row) => cells(row.values));
  /** The upload's records by entity and key (the first of a key). */
  readonly #here = new Map<V2Entity, Map<string, V2Row>>();
  /** The upload's projects, by `cadTrustProjectId`. */
  readonly #projects = new Map<string, CadtProject>();
  readonly #issuances = new Map<string, Issuance>();
  readonly #labels = new Map<string, Label>();
  /** Unit → the labels on it. */
  readonly #unitLabels = new Map<string, Label[]>();
  /** The blocks of the upload's units, by unit key. */
  readonly #blocks = new Map<string, { block: BlockRecord; project: ProjectRef }>();
  readonly #unitKeys = new UnitKeys();
  readonly #totals = new IssuanceTotals();

  constructor(
    private readonly uploaded: readonly V2Row[],
    private readonly ledger: CadtV2Ledger,
  ) {}

  map(): Map<string, Mapped> {
    this.#index();
    this.#readProjects();
    this.#readLocations();
    this.#readCrediting();
    this.#readMethodologies();
    this.#readStakeholders();
    this.#readOtherProjectRecords();
    this.#readVerifications();
    this.#readIssuances();
    this.#readLabels();
    for (const row of this.#of('unit')) this.#readUnit(row);
    this.#emitIssuances();
    this.#emitLabels();
    return this.#rows.mapped();
  }

  nationalRegistries(): NationalRegistry[] {
    return [...this.#rows.nationalRegistries.values()];
  }

  #of(entity: V2Entity): V2Row[] {
    return this.uploaded.filter((row) => row.entity === entity);
  }

  /** Every record by its key: a record without one, or with one already given, is an error (join records have none). */
  #index(): void {
    for (const row of this.uploaded) {
      const r = this.#rows.reader(row);
      const keyField = V2_KEY[row.entity];
      if (!row.id) {
        if (row.entity !== 'unit-label' && row.entity !== 'stakeholder-projects') r.fail(keyField, 'missing', `is empty: a CAD Trust v2 ${row.entity} is known by its ${keyField}`);
        continue;
      }
      const byId = this.#here.get(row.entity) ?? new Map<string, V2Row>();
      this.#here.set(row.entity, byId);
      const first = byId.get(row.id);
      if (first) r.fail(keyField, 'duplicate-record', `${row.entity} ${row.id} is already at ${first.locator}`);
      else byId.set(row.id, row);
    }
  }

  /** A record by key: in the upload, else of an earlier upload. */
  #find(entity: V2Entity, id: string | undefined): { values: Record<string, unknown>; row?: V2Row } | undefined {
    if (!id) return undefined;
    const row = this.#here.get(entity)?.get(id);
    if (row) return { values: row.values, row };
    const values = this.ledger.earlier.get(entity)?.get(id);
    return values ? { values } : undefined;
  }

  /** A reference that must resolve: reports it when it does not. */
  #follow(r: CadtReader, values: Record<string, unknown>, field: string, target: V2Entity, required: boolean) {
    const id = idText(values[field]);
    if (!id) {
      if (required) r.fail(field, 'missing', 'is empty');
      return undefined;
    }
    const found = this.#find(target, id);
    if (!found) r.unknown(field, `unknown-${target}`, `${target} ${id}`);
    return found;
  }

  // ---- projects, and the records that describe them ----

  #readProjects(): void {
    const keys = new ProjectKeys();
    for (const row of this.#of('project')) {
      const r = this.#rows.reader(row);
      const { project, registry, registryName } = readProject(r, PROJECT_FIELDS);
      const status = r.pick('projectStatus', V2_TERMS.projectStatus);
      const statusDate = r.date('projectStatusDate');
      keys.claim(r, 'projectId', project, registryName);
      // A CDM activity that transitioned to the mechanism names its CDM project in the reference id.
      const reference = r.text('cadTrustReferenceProjectId');
      const cdm = cdmReference(reference);
      if (reference && !cdm) r.warn('cadTrustReferenceProjectId', 'reference-not-read', `"${reference}" names no CDM activity (CDM-<reference number>); kept as received only`);
      Object.assign(project.record, {
        status: (status ?? undefined) as ProjectRecord['status'],
        statusRaw: r.text('projectStatus'),
        registeredOn: status === 'registered' ? statusDate : undefined,
        ...(cdm && registry?.slug !== 'cdm' ? { otherPrograms: [{ program: 'CDM', projectId: cdm, relation: 'converted-from' as const, field: 'cadTrustReferenceProjectId' }] } : {}),
      });
      if (row.id && !this.#projects.has(row.id)) {
        this.#projects.set(row.id, project);
        this.#rows.emit(row, project.record);
      }
      this.#rows.noteRegistry(registry, r);
      const program = idText(row.values.cadTrustProgramId);
      if (program && !this.#find('program', program)) r.warn('cadTrustProgramId', 'unknown-program', `program ${program} is not in this upload; the project is read without it`);
    }
  }

  /** A project by key: of this upload, else the ledger project an earlier upload stored. */
  #projectRef(id: string | undefined): ProjectRef | undefined {
    return id ? this.#projects.get(id) ?? this.ledger.earlierProjects.get(id) : undefined;
  }

  /** The upload's own project a child record describes (a project's children come with it). */
  #parentOf(row: V2Row, r: CadtReader): CadtProject | undefined {
    const id = r.required('cadTrustProjectId', r.text('cadTrustProjectId'));
    const project = id ? this.#projects.get(id) : undefined;
    if (!id || project) return project;
    if (this.ledger.earlierProjects.has(id)) {
      r.fail('cadTrustProjectId', 'project-not-in-upload', `project ${id} is from an earlier upload: a project's ${row.entity} records are uploaded with the project`);
    } else r.unknown('cadTrustProjectId', 'unknown-project', `project ${id}`);
    return undefined;
  }

  #readLocations(): void {
    for (const row of this.#of('location')) {
      const r = this.#rows.reader(row);
      const project = this.#parentOf(row, r);
      const location = readLocation(r, LOCATION_FIELDS, { countryRequired: true });
      // The first location of a project gives its country, region and coordinates.
      if (project && r.errors.length === 0 && project.country === null) locate(project, location);
    }
  }

  /** Estimations give the crediting period and the expected units; without any, a validation's credit period stands in. */
  #readCrediting(): void {
    const estimations = new Map<CadtProject, Estimation[]>();
    for (const row of this.#of('estimation')) {
      const r = this.#rows.reader(row);
      const project = this.#parentOf(row, r);
      const start = r.required('estimationStartDate', r.date('estimationStartDate'));
      const end = r.required('estimationEndDate', r.date('estimationEndDate'));
      const units = r.count('estimationUnitCount');
      r.order('estimationEndDate', start, end, 'estimationStartDate');
      if (project && r.errors.length === 0) estimations.set(project, [...(estimations.get(project) ?? []), { start, end, units }]);
    }
    const validations = new Map<CadtProject, Estimation[]>();
    for (const row of this.#of('validation')) {
      const r = this.#rows.reader(row);
      const project = this.#parentOf(row, r);
      const [start, end] = r.period('validationCreditPeriodStartDate', 'validationCreditPeriodEndDate');
      if (project && r.errors.length === 0 && (start || end)) validations.set(project, [...(validations.get(project) ?? []), { start, end }]);
    }
    for (const project of this.#projects.values()) Object.assign(project.record, creditingOf(estimations.get(project) ?? validations.get(project) ?? []));
  }

  /** The project's methodologies: each `project-methodology` names one by code. */
  #readMethodologies(): void {
    const codes = new Map<CadtProject, string[]>();
    for (const row of this.#of('project-methodology')) {
      const r = this.#rows.reader(row);
      const project = this.#parentOf(row, r);
      const methodology = this.#follow(r, row.values, 'cadTrustMethodologyId', 'methodology', true);
      const code = methodology ? idText(methodology.values.methodologyCode) ?? idText(methodology.values.methodologyName) : undefined;
      if (project && code && r.errors.length === 0) codes.set(project, [...(codes.get(project) ?? []), code]);
    }
    for (const [project, list] of codes) {
      project.methodology = [...new Set(list)].join('; ');
      project.record.methodology = project.methodology;
    }
    for (const row of this.#of('methodology')) {
      const r = this.#rows.reader(row);
      r.required('methodologyCode', r.text('methodologyCode'));
    }
  }

  /** Stakeholders: the developer (else the owner) is the project's proponent. */
  #readStakeholders(): void {
    const joined = new Map<string, string[]>(); // stakeholder → projects, from the join records
    for (const row of this.#of('stakeholder-projects')) {
      const r = this.#rows.reader(row);
      const stakeholder = this.#follow(r, row.values, 'cadTrustStakeholderId', 'stakeholder', true);
      const project = this.#parentOf(row, r);
      const id = idText(row.values.cadTrustStakeholderId)!;
      if (stakeholder && project) joined.set(id, [...(joined.get(id) ?? []), r.text('cadTrustProjectId')!]);
    }
    const proponents = new Map<CadtProject, { name: string; rank: number }>();
    for (const row of this.#of('stakeholder')) {
      const r = this.#rows.reader(row);
      const name = r.required('stakeholderName', r.text('stakeholderName'));
      const type = r.pick('stakeholderType', V2_TERMS.stakeholderType);
      const direct = r.text('cadTrustProjectId');
      const ids = [...(direct ? [direct] : []), ...(row.id ? joined.get(row.id) ?? [] : [])];
      if (direct && !this.#projects.has(direct)) this.#parentOf(row, r);
      const rank = type === 'Developer' ? 0 : type === 'Owner' ? 1 : 2;
      for (const id of ids) {
        const project = this.#projects.get(id);
        if (!project || !name || rank === 2 || r.errors.length > 0) continue;
        const current = proponents.get(project);
        if (!current || rank < current.rank) proponents.set(project, { name, rank });
      }
    }
    for (const [project, p] of proponents) project.record.proponent = p.name;
  }

  #readOtherProjectRecords(): void {
    for (const row of this.#of('co-benefit')) {
      const r = this.#rows.reader(row);
      readCoBenefit(r, this.#parentOf(row, r), coBenefitOfV2);
    }
    for (const row of this.#of('rating')) {
      const r = this.#rows.reader(row);
      this.#parentOf(row, r);
      ratingNotStored(r);
    }
    for (const row of this.#of('program')) {
      const r = this.#rows.reader(row);
      r.required('programName', r.text('programName'));
    }
  }

  // ---- verifications and issuances ----

  /** Verifications: the monitoring period an issuance credits. */
  #readVerifications(): void {
    for (const row of this.#of('verification')) {
      const r = this.#rows.reader(row);
      r.required('verificationId', r.text('verificationId'));
      const project = r.required('cadTrustProjectId', r.text('cadTrustProjectId'));
      if (project && !this.#projectRef(project)) r.unknown('cadTrustProjectId', 'unknown-project', `project ${project}`);
      r.period('verificationStartDate', 'verificationEndDate');
      if (idText(row.values.cadTrustValidationId)) this.#follow(r, row.values, 'cadTrustValidationId', 'validation', false);
    }
  }

  #readIssuances(): void {
    for (const row of this.#of('issuance')) {
      const r = this.#rows.reader(row);
      r.required('issuanceId', r.text('issuanceId'));
      const issuedOn = r.date('issuanceDate');
      const issuance = row.id ? this.#issuanceOf(row.id, r) : undefined;
      if (!issuance) continue;
      issuance.issuedOn = issuedOn;
      if (issuance.vintageStart && issuance.vintageEnd && issuance.vintageEnd < issuance.vintageStart) {
        r.fail('cadTrustVerificationId', 'period-order', `its verification ends (${issuance.vintageEnd}) before it starts (${issuance.vintageStart})`);
      }
    }
  }

  /**
   * An issuance of the upload or of an earlier one, with its project (through its verification, project
   * methodology or location, which must agree) and monitoring period; errors go to `r` for the upload's own.
   */
  #issuanceOf(id: string, r?: CadtReader): Issuance | undefined {
    const known = this.#issuances.get(id);
    if (known) return known;
    const found = this.#find('issuance', id);
    if (!found) return undefined;
    const report = found.row ? r ?? this.#rows.reader(found.row) : undefined;
    const issuance: Issuance = { key: id, issuedOn: idText(found.values.issuanceDate)?.slice(0, 10) };
    const candidates: { field: string; project?: string }[] = [];
    for (const [field, target] of V2_REFERENCES.issuance) {
      const ref = idText(found.values[field]);
      if (!ref) continue;
      const parent = this.#find(target, ref);
      if (!parent) {
        report?.unknown(field, `unknown-${target}`, `${target} ${ref}`);
        continue;
      }
      if (target === 'verification') {
        issuance.vintageStart = idText(parent.values.verificationStartDate)?.slice(0, 10);
        issuance.vintageEnd = idText(parent.values.verificationEndDate)?.slice(0, 10);
      }
      candidates.push({ field, project: idText(parent.values.cadTrustProjectId) });
    }
    const named = [...new Set(candidates.flatMap((c) => (c.project ? [c.project] : [])))];
    if (candidates.length === 0 && report && report.errors.length === 0) {
      report.fail('cadTrustVerificationId', 'missing', 'is empty, and so are cadTrustProjectMethodologyId and cadTrustLocationId: nothing names the issuance\'s project');
    }
    if (named.length > 1) report?.fail('cadTrustLocationId', 'other-project', `the issuance's verification, project methodology and location belong to different projects (${named.join(', ')})`);
    issuance.project = named.length === 1 ? this.#projectRef(named[0]) : undefined;
    if (named.length === 1 && !issuance.project) report?.unknown(candidates[0]!.field, 'unknown-project', `its project ${named[0]}`);
    this.#issuances.set(id, issuance);
    return issuance;
  }

  // ---- labels, units, and the records known only once the units are read ----

  #labelOf(id: string): Label | undefined {
    const known = this.#labels.get(id);
    if (known) return known;
    const found = this.#find('label', id);
    if (!found) return undefined;
    const { values } = found;
    const label: Label = {
      id, row: found.row, label: idText(values.labelName), labelLink: idText(values.labelLink), date: idText(values.labelDate)?.slice(0, 10),
      labelType: V2_TERMS.labelType.read(idText(values.labelType) ?? '') ?? undefined,
    };
    this.#labels.set(id, label);
    return label;
  }

  #readLabels(): void {
    for (const row of this.#of('label')) {
      const r = this.#rows.reader(row);
      const label = r.required('labelName', r.text('labelName'));
      const labelType = r.pick('labelType', V2_TERMS.labelType, true);
      if (labelType === null) r.warn('labelType', 'label-type-not-stored', `"${r.text('labelType')}" has no Tally label type; the label is kept as received only`);
      const date = r.date('labelDate');
      if (row.id && label) this.#labels.set(row.id, { id: row.id, row, label, labelType: labelType ?? undefined, labelLink: r.text('labelLink'), date });
    }
    for (const row of this.#of('unit-label')) {
      const r = this.#rows.reader(row);
      const unit = this.#follow(r, row.values, 'cadTrustUnitId', 'unit', true);
      const labelId = idText(row.values.cadTrustLabelId);
      if (!labelId) r.fail('cadTrustLabelId', 'missing', 'is empty');
      const label = labelId ? this.#labelOf(labelId) : undefined;
      if (labelId && !label) r.unknown('cadTrustLabelId', 'unknown-label', `label ${labelId}`);
      const unitId = idText(row.values.cadTrustUnitId)!;
      if (unit && label && r.errors.length === 0) this.#unitLabels.set(unitId, [...(this.#unitLabels.get(unitId) ?? []), label]);
    }
  }

  #readUnit(row: V2Row): void {
    const r = this.#rows.reader(row);
    const issuanceId = r.required('cadTrustIssuanceId', r.text('cadTrustIssuanceId'));
    const issuance = issuanceId ? this.#issuanceOf(issuanceId) : undefined;
    if (issuanceId && !issuance) r.unknown('cadTrustIssuanceId', 'unknown-issuance', `issuance ${issuanceId}`);
    else if (issuance && !issuance.project) r.fail('cadTrustIssuanceId', 'unknown-project', `the project of issuance ${issuanceId} is not known (see that issuance's errors)`);
    const project = issuance?.project;
    const quantity = r.count('unitCount', { required: true });
    const status = r.pick('unitStatus', V2_TERMS.unitStatus, true) ?? undefined;
    const unitType = r.pick('unitType', V2_TERMS.unitType) ?? undefined;
    const vintageYear = vintageYearOf(r, 'unitVintageYear');
    const metric = r.text('unitMetric');
    if (metric && metric.toLowerCase() !== 'tco2e') r.fail('unitMetric', 'unit-metric', `"${metric}": Tally counts units in tCO2e only`);
    const range = blockRange(r, RANGE_FIELDS, { quantity, project }, this.ledger.serialSchemes);
    const unitId = row.id;
    if (unitId && project) this.#unitKeys.claim(r, 'cadTrustUnitId', project.registry, unitId);
    if (!project || !unitId || !quantity || !status || !issuanceId || r.errors.length > 0) return;

    // Article 6: a unit is authorized by an "Article 6 - Authorisation" label or an ITMO reference.
    const text = { registry: project.registry, status, accountHolder: r.text('unitCurrentOwner'), retirementReason: r.text('unitStatusReason'), retirementDetails: r.text('unitRetirementDetail') };
    const block = blockRecord({
      ...text, project, blockKey: unitId, issuanceKey: issuanceId, range, quantity, vintageYear, unitType,
      vintageStart: issuance.vintageStart, vintageEnd: issuance.vintageEnd, creditType: creditTypeOf(project.registry),
      statusDate: r.date('unitStatusDate'), retirementBeneficiary: r.text('unitRetirementBeneficiary'), retirementPurpose: retirementPurposeOf(text),
      authorization: authorizationOf(this.#unitLabels.get(unitId) ?? [], r.text('unitItmosReferenceId')),
    });
    this.#blocks.set(unitId, { block, project });
    this.#rows.emit(row, block);
    this.#totals.add(issuanceId, block);
  }

  /** Issuance records: their quantity is their units' (CAD Trust issuances carry none). */
  #emitIssuances(): void {
    for (const row of this.#of('issuance')) {
      const r = this.#rows.reader(row);
      this.#totals.checkNamed(r, 'cadTrustIssuanceId', row.id ?? '');
      const issuance = row.id ? this.#issuances.get(row.id) : undefined;
      if (!issuance?.project || r.errors.length > 0) continue;
      const record = this.#totals.record(issuance, issuance.project);
      if (record) this.#rows.emit(row, record);
    }
  }

  /** Label records: one per label and project, with the blocks of the upload it covers. */
  #emitLabels(): void {
    const perLabel = new Map<string, Map<string, { project: ProjectRef; blockKeys: string[]; emitter: V2Row }>>();
    for (const row of this.#of('unit-label')) {
      const r = this.#rows.reader(row);
      if (r.errors.length > 0) continue;
      const unitId = idText(row.values.cadTrustUnitId)!;
      const label = this.#labelOf(idText(row.values.cadTrustLabelId)!)!;
      const here = this.#blocks.get(unitId);
      // A unit of an earlier upload: its project through its issuance.
      const earlierUnit = here ? undefined : this.ledger.earlier.get('unit')?.get(unitId);
      const project = here?.project ?? (earlierUnit ? this.#issuanceOf(idText(earlierUnit.cadTrustIssuanceId) ?? '')?.project : undefined);
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
      const label = this.#labels.get(labelId)!;
      for (const { project, blockKeys, emitter } of byProject.values()) {
        const labelType = label.labelType as Parameters<typeof labelRecord>[1]['labelType'];
        this.#rows.emit(emitter, labelRecord(project, { labelType, label: label.label!, labelLink: label.labelLink, validityPeriodStart: label.date }, blockKeys));
      }
    }
    for (const row of this.#of('label')) {
      if (row.id && !perLabel.has(row.id) && this.#labels.get(row.id)?.labelType) {
        this.#rows.reader(row).warn('cadTrustLabelId', 'label-without-units', 'no unit of this upload carries the label; a CAD Trust v2 label belongs to a project through its units, so it is kept as received only');
      }
    }
  }
}
