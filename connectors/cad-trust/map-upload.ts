import type { BlockRecord, LabelRecord, ProjectRecord } from '../../schema/canonical.ts';
import { termFromCadt } from '../../schema/taxonomy/index.ts';
import { parsePythonLiteral } from '../runtime/python-literal.ts';
import type { Mapped } from '../types.ts';
import {
  authorizationOf, blockRange, blockRecord, cadtPicklist, creditingOf, fold, IssuanceTotals, labelRecord, locate, programOf, ProjectKeys,
  ratingNotStored, readCoBenefit, readLocation, readProject, UnitKeys, UploadRows, vintageYearOf,
  type CadtForm, type CadtIssuance, type CadtProject, type CadtReader, type Estimation, type ProjectRef,
} from './core.ts';
import type { NationalRegistry } from './registries.ts';
import type { CadtRow, CadtTable } from './v1.ts';

// One CAD Trust v1 upload, all tables together, to canonical records (connectors/cad-trust/README.md).
// Tables refer to each other (a unit to its issuance and project, a label to the units it covers), so the
// whole upload is mapped at once; what it refers to outside itself comes from the ledger (`CadtLedger`,
// looked up by the job). This module finds each row's fields and what it refers to; `core.ts` reads and
// checks the values and makes the records. Each row gets its records, its errors and its warnings, by locator.

/** A project already in the ledger, as a unit or label of this upload may refer to it. */
export type LedgerProject = ProjectRef;

/** What the ledger holds that an upload may refer to (only what the uploading organization may see). */
export type CadtLedger = {
  /** Registry slug → how it numbers serials (`kyoto`, `per-issuance`…). */
  serialSchemes: ReadonlyMap<string, string>;
  /** By the `warehouseProjectId` of an earlier CAD Trust upload. */
  projectsByWarehouseId: ReadonlyMap<string, LedgerProject>;
  /** By registry URL (`projectLink` = a unit's `unitRegistryLink`). */
  projectsByLink: ReadonlyMap<string, LedgerProject>;
  /** By CAD Trust issuance id (the issuance key). */
  projectsByIssuance: ReadonlyMap<string, LedgerProject>;
  /** Registry of each block stored under a `warehouseUnitId` as its block key. */
  unitRegistries: ReadonlyMap<string, string>;
};

/** The ids and links an upload refers to, for the ledger look-ups. */
export type CadtReferences = { warehouseProjectIds: string[]; links: string[]; issuanceIds: string[]; warehouseUnitIds: string[] };

export type MappedUpload = { mapped: Map<string, Mapped>; nationalRegistries: NationalRegistry[] };

const V1: CadtForm = { name: 'CAD Trust', elsewhere: 'the ledger' };

/** The v1 picklists, as Tally's vocabularies carry them. */
const PICKLISTS = {
  projectStatus: cadtPicklist('projectStatus'),
  coveredByNdc: cadtPicklist('coveredByNdc'),
  unitStatus: cadtPicklist('unitStatus'),
  // CAD Trust's CDM files write "Not Determined" and "Not Applicable", which the v1 picklists lack: no value.
  unitType: cadtPicklist('unitType', ['Not Determined']),
  caDeclaration: cadtPicklist('caDeclaration', ['Not Applicable']),
  caStatus: cadtPicklist('caStatus', ['Not Applicable']),
  labelType: cadtPicklist('labelType'),
};

const PROJECT_FIELDS = { registry: 'currentRegistry', projectId: 'projectId', name: 'projectName', link: 'projectLink' };
const LOCATION_FIELDS = { country: 'country', region: 'inCountryRegion', gis: 'geographicIdentifier' };
const RANGE_FIELDS = { start: 'unitBlockStart', end: 'unitBlockEnd', serial: 'serialNumberBlock', count: 'unitCount' };

const present = (v: string | undefined) => (v === undefined || /^\s*(NA|N\/A|nan|None|null)?\s*$/i.test(v) ? undefined : v.trim());
const clean = (values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, present(v) ?? '']));

/** The references an upload makes to rows that may be in the ledger instead. */
export function cadtReferences(rows: readonly CadtRow[]): CadtReferences {
  const refs = { warehouseProjectIds: new Set<string>(), links: new Set<string>(), issuanceIds: new Set<string>(), warehouseUnitIds: new Set<string>() };
  for (const row of rows) {
    const v = clean(row.values);
    if (v.warehouseProjectId && row.table !== 'projects') refs.warehouseProjectIds.add(v.warehouseProjectId);
    if (row.table === 'units') {
      if (v.unitRegistryLink) refs.links.add(v.unitRegistryLink);
      if (v.issuanceId) refs.issuanceIds.add(v.issuanceId);
      const embedded = embeddedIssuance(v.issuance);
      if (embedded.ok && embedded.issuance?.warehouseProjectId) refs.warehouseProjectIds.add(embedded.issuance.warehouseProjectId);
    }
    if (row.table === 'label_units' && v.warehouseUnitId) refs.warehouseUnitIds.add(v.warehouseUnitId);
  }
  return { warehouseProjectIds: [...refs.warehouseProjectIds], links: [...refs.links], issuanceIds: [...refs.issuanceIds], warehouseUnitIds: [...refs.warehouseUnitIds] };
}

/** A v1 issuance: its key is CAD Trust's issuance `id`, its vintage `startDate` … `endDate`. */
type Issuance = CadtIssuance & { warehouseProjectId?: string };

/** A unit's `issuance` cell: CAD Trust's issuance record as a Python repr or JSON. */
function embeddedIssuance(cell: string | undefined): { ok: true; issuance?: Issuance } | { ok: false; error: string } {
  if (!cell) return { ok: true };
  let value: unknown;
  try {
    value = parsePythonLiteral(cell);
  } catch (error) {
    return { ok: false, error: `is not an issuance record (${(error as Error).message})` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'is not an issuance record ({"id": …, "startDate": …})' };
  const o = value as Record<string, unknown>;
  const text = (k: string) => (typeof o[k] === 'string' || typeof o[k] === 'number' ? present(String(o[k])) : undefined);
  const id = text('id');
  if (!id) return { ok: false, error: 'is an issuance record without an id' };
  return { ok: true, issuance: { key: id, warehouseProjectId: text('warehouseProjectId'), vintageStart: text('startDate'), vintageEnd: text('endDate') } };
}

/** The project's estimations from its `estimations` cell (a list, as the CDM upload writes it). */
function estimationsCell(r: CadtReader): Estimation[] {
  const cell = r.text('estimations');
  if (!cell) return [];
  let list: unknown;
  try {
    list = parsePythonLiteral(cell);
  } catch (error) {
    r.fail('estimations', 'unreadable', `is not a list of estimations (${(error as Error).message})`);
    return [];
  }
  if (!Array.isArray(list)) {
    r.fail('estimations', 'unreadable', 'is not a list of estimations ([{creditingPeriodStart, creditingPeriodEnd, unitCount}])');
    return [];
  }
  return list.map((item) => {
    const o = (item ?? {}) as Record<string, unknown>;
    const units = o.unitCount === null || o.unitCount === undefined ? undefined : Number(o.unitCount);
    const start = r.dateOf('estimations', typeof o.creditingPeriodStart === 'string' ? o.creditingPeriodStart : undefined);
    const end = r.dateOf('estimations', typeof o.creditingPeriodEnd === 'string' ? o.creditingPeriodEnd : undefined);
    r.order('estimations', start, end, 'creditingPeriodStart', 'creditingPeriodEnd');
    return { start, end, units: units !== undefined && Number.isFinite(units) && units >= 0 ? units : undefined };
  });
}

type Unit = {
  row: CadtRow;
  reader: CadtReader;
  project?: ProjectRef;
  issuance?: Issuance;
  /** The issuance is carried in the unit's own `issuance` cell, not in the issuances table. */
  embedded: boolean;
  block?: BlockRecord;
};

/** Maps every row of one upload. Rows come in any order; the result is keyed by locator. */
export function mapCadtUpload(rows: readonly CadtRow[], ledger: CadtLedger): MappedUpload {
  return new V1Upload(rows, ledger).map();
}

/** One v1 upload being mapped: the tables are read parents first, and each keeps what later tables refer to. */
class V1Upload {
  readonly #rows = new UploadRows<CadtRow>(V1, (row) => clean(row.values));
  /** By warehouseProjectId, else by row locator. */
  readonly #projects = new Map<string, CadtProject>();
  readonly #projectsByLink = new Map<string, CadtProject>();
  readonly #estimations = new Map<CadtProject, Estimation[]>();
  readonly #issuances = new Map<string, { row: CadtRow; reader: CadtReader; issuance: Issuance; project?: ProjectRef }>();
  readonly #units: Unit[] = [];
  readonly #unitsById = new Map<string, Unit>();
  readonly #unitKeys = new UnitKeys();
  readonly #labels = new Map<string, { row: CadtRow; record?: LabelRecord & { blockKeys: string[] } }>();
  readonly #totals = new IssuanceTotals();

  constructor(
    private readonly uploaded: readonly CadtRow[],
    private readonly ledger: CadtLedger,
  ) {}

  map(): MappedUpload {
    for (const row of this.#of('projects')) this.#readProject(row);
    this.#readEstimations();
    this.#readProjectChildren();
    for (const row of this.#of('issuances')) this.#readIssuance(row);
    for (const row of this.#of('units')) this.#readUnit(row);
    for (const row of this.#of('labels')) this.#readLabel(row);
    for (const row of this.#of('label_units')) this.#readLabelUnit(row);
    this.#emitIssuancesAndBlocks();
    return { mapped: this.#rows.mapped(), nationalRegistries: [...this.#rows.nationalRegistries.values()] };
  }

  #of(table: CadtTable): CadtRow[] {
    return this.uploaded.filter((row) => row.table === table);
  }

  // ---- projects and the tables that describe them ----

  readonly #projectKeys = new ProjectKeys();

  #readProject(row: CadtRow): void {
    const r = this.#rows.reader(row);
    const { project, registry, registryName } = readProject(r, PROJECT_FIELDS);
    const warehouseProjectId = r.text('warehouseProjectId');
    this.#projectKeys.claim(r, 'projectId', project, registryName);
    const earlier = warehouseProjectId ? this.#projects.get(warehouseProjectId) : undefined;
    if (earlier) r.fail('warehouseProjectId', 'duplicate-project', `${warehouseProjectId} is already at ${earlier.locator}`);
    const origin = r.text('registryOfOrigin');
    const originProjectId = r.text('originProjectId');
    if (origin && originProjectId && fold(origin) !== fold(registryName ?? '')) {
      project.record.otherPrograms = [{ program: programOf(origin), projectId: originProjectId, relation: 'converted-from', field: 'registryOfOrigin' }];
    }
    // CAD Trust's CDM files flatten the project's first location onto its row.
    locate(project, readLocation(r, LOCATION_FIELDS));
    project.methodology = [r.text('methodology'), r.text('methodology2')].filter(Boolean).join('; ') || null;
    const own = estimationsCell(r);
    Object.assign(project.record, {
      proponent: r.text('projectDeveloper'),
      methodology: project.methodology ?? undefined,
      status: (r.pick('projectStatus', PICKLISTS.projectStatus) ?? undefined) as ProjectRecord['status'],
      statusRaw: r.text('projectStatus'),
      coveredByNdc: (r.pick('coveredByNDC', PICKLISTS.coveredByNdc) ?? undefined) as ProjectRecord['coveredByNdc'],
      ...creditingOf(own),
    });
    this.#estimations.set(project, own);
    if (!earlier) this.#projects.set(warehouseProjectId ?? row.locator, project);
    const link = project.record.registryUrl;
    if (link && !this.#projectsByLink.has(link)) this.#projectsByLink.set(link, project);
    this.#rows.noteRegistry(registry, r);
    this.#rows.emit(row, project.record);
  }

  /** A child row's project: it must be in this upload (a project's children travel with it). */
  #parentOf(r: CadtReader, table: string): CadtProject | undefined {
    const id = r.required('warehouseProjectId', r.text('warehouseProjectId'));
    const project = id ? this.#projects.get(id) : undefined;
    if (id && !project) r.fail('warehouseProjectId', 'unknown-project', `${id} names no project in this upload (a project's ${table} are uploaded with its projects row)`);
    return project;
  }

  /** The `estimations` table adds to the estimations of the project's own cell. */
  #readEstimations(): void {
    const extended = new Set<CadtProject>();
    for (const row of this.#of('estimations')) {
      const r = this.#rows.reader(row);
      const project = this.#parentOf(r, 'estimations');
      const estimation = { start: r.date('creditingPeriodStart'), end: r.date('creditingPeriodEnd'), units: r.count('unitCount', { whole: true }) };
      r.order('creditingPeriodEnd', estimation.start, estimation.end, 'creditingPeriodStart');
      if (!project || r.errors.length > 0) continue;
      this.#estimations.get(project)!.push(estimation);
      extended.add(project);
    }
    for (const project of extended) Object.assign(project.record, creditingOf(this.#estimations.get(project)!));
  }

  #readProjectChildren(): void {
    for (const row of this.#of('projectLocations')) {
      const r = this.#rows.reader(row);
      const project = this.#parentOf(r, 'projectLocations');
      const location = readLocation(r, LOCATION_FIELDS);
      if (project && r.errors.length === 0) locate(project, location);
    }
    for (const row of this.#of('relatedProjects')) {
      const r = this.#rows.reader(row);
      const project = this.#parentOf(r, 'relatedProjects');
      const relatedId = r.required('relatedProjectId', r.text('relatedProjectId'));
      const registry = r.text('registry');
      if (!project || !relatedId || r.errors.length > 0) continue;
      project.record.otherPrograms = [...(project.record.otherPrograms ?? []), {
        program: registry ? programOf(registry) : undefined, projectId: relatedId, relation: 'same-activity', field: 'relatedProjects',
      }];
    }
    for (const row of this.#of('coBenefits')) {
      const r = this.#rows.reader(row);
      readCoBenefit(r, this.#parentOf(r, 'coBenefits'), (value) => termFromCadt('coBenefit', value)?.code);
    }
    for (const row of this.#of('projectRatings')) {
      const r = this.#rows.reader(row);
      this.#parentOf(r, 'projectRatings');
      ratingNotStored(r);
    }
  }

  // ---- issuances and units: their project is in this upload or in the ledger ----

  #projectByWarehouseId(id: string | undefined): ProjectRef | undefined {
    return id ? this.#projects.get(id) ?? this.ledger.projectsByWarehouseId.get(id) : undefined;
  }

  #readIssuance(row: CadtRow): void {
    const r = this.#rows.reader(row);
    const id = r.required('id', r.text('id'));
    const warehouseProjectId = r.required('warehouseProjectId', r.text('warehouseProjectId'));
    const project = this.#projectByWarehouseId(warehouseProjectId);
    if (warehouseProjectId && !project) r.unknown('warehouseProjectId', 'unknown-project', `project ${warehouseProjectId}`);
    const [vintageStart, vintageEnd] = r.period('startDate', 'endDate');
    if (!id) return;
    const earlier = this.#issuances.get(id);
    if (earlier) r.fail('id', 'duplicate-issuance', `issuance ${id} is already at ${earlier.row.locator}`);
    else this.#issuances.set(id, { row, reader: r, issuance: { key: id, warehouseProjectId, vintageStart, vintageEnd }, project });
  }

  #readUnit(row: CadtRow): void {
    const r = this.#rows.reader(row);
    const unit: Unit = { row, reader: r, embedded: false };
    this.#units.push(unit);
    const issuanceId = r.text('issuanceId');
    this.#findIssuance(unit, issuanceId);
    unit.project = this.#findProject(unit, issuanceId);

    const quantity = r.count('unitCount', { required: true, whole: true });
    const status = r.pick('unitStatus', PICKLISTS.unitStatus, true) ?? undefined;
    const unitType = r.pick('unitType', PICKLISTS.unitType) ?? undefined;
    const declared = {
      declaration: r.pick('correspondingAdjustmentDeclaration', PICKLISTS.caDeclaration) ?? undefined,
      status: r.pick('correspondingAdjustmentStatus', PICKLISTS.caStatus) ?? undefined,
    };
    const vintageYear = vintageYearOf(r, 'vintageYear');
    const range = blockRange(r, RANGE_FIELDS, { quantity, project: unit.project }, this.ledger.serialSchemes);

    // Without a warehouseUnitId the unit is known by its project and range (registries that number per
    // project repeat ranges across projects).
    const warehouseUnitId = r.text('warehouseUnitId');
    if (!warehouseUnitId && r.text('unitBlockStart') === undefined && r.text('unitBlockEnd') === undefined && !range.serial) {
      r.fail('unitBlockStart', 'missing', 'is empty, and the unit has no warehouseUnitId: nothing tells it apart from the others');
    }
    const blockKey = warehouseUnitId ?? (unit.project && range.bounds ? `${unit.project.registryProjectId}:${range.bounds}` : undefined);
    if (unit.project && blockKey) this.#unitKeys.claim(r, warehouseUnitId ? 'warehouseUnitId' : 'unitBlockStart', unit.project.registry, blockKey);
    if (warehouseUnitId) this.#unitsById.set(warehouseUnitId, unit);
    if (!unit.project || !blockKey || !quantity || !status) return;
    unit.block = blockRecord({
      project: unit.project, blockKey, issuanceKey: unit.issuance?.key ?? issuanceId, range, quantity, status, vintageYear, unitType,
      retirementReason: r.text('unitStatusReason'), accountHolder: r.text('unitOwner'), declared,
    });
  }

  /** The unit's issuance: carried whole in its `issuance` cell (CAD Trust's own exports), or named by `issuanceId`. */
  #findIssuance(unit: Unit, issuanceId: string | undefined): void {
    const r = unit.reader;
    const cell = embeddedIssuance(r.text('issuance'));
    if (!cell.ok) r.fail('issuance', 'unreadable', cell.error);
    else if (cell.issuance) {
      const listed = this.#issuances.get(cell.issuance.key)?.issuance;
      unit.embedded = !listed;
      unit.issuance = listed ?? cell.issuance;
      if (unit.embedded) {
        unit.issuance.vintageStart = r.dateOf('issuance', unit.issuance.vintageStart);
        unit.issuance.vintageEnd = r.dateOf('issuance', unit.issuance.vintageEnd);
        r.order('issuance', unit.issuance.vintageStart, unit.issuance.vintageEnd, 'startDate', 'endDate');
      }
    }
    if (issuanceId && !unit.issuance) unit.issuance = this.#issuances.get(issuanceId)?.issuance;
  }

  /** The unit's project: by warehouseProjectId where both sides have one, else by the unit's registry link. */
  #findProject(unit: Unit, issuanceId: string | undefined): ProjectRef | undefined {
    const r = unit.reader;
    const { ledger } = this;
    const warehouseProjectId = r.text('warehouseProjectId') ?? unit.issuance?.warehouseProjectId;
    const link = r.text('unitRegistryLink');
    const project = (warehouseProjectId ? this.#projects.get(warehouseProjectId) : undefined)
      ?? (link ? this.#projectsByLink.get(link) : undefined)
      ?? (warehouseProjectId ? ledger.projectsByWarehouseId.get(warehouseProjectId) : undefined)
      ?? (link ? ledger.projectsByLink.get(link) : undefined)
      ?? (issuanceId ? ledger.projectsByIssuance.get(issuanceId) : undefined);
    if (issuanceId && !unit.issuance && !ledger.projectsByIssuance.has(issuanceId)) r.unknown('issuanceId', 'unknown-issuance', `issuance ${issuanceId}`);
    if (!project) {
      const named = [warehouseProjectId && `warehouseProjectId ${warehouseProjectId}`, link && `unitRegistryLink ${link}`].filter(Boolean).join(', ');
      if (named) r.unknown('project', 'unknown-project', `the unit's project (${named})`);
      else r.fail('project', 'unknown-project', 'the unit names no project (no issuance with a warehouseProjectId, no unitRegistryLink)');
    }
    return project;
  }

  // ---- labels, and the units they cover ----

  #readLabel(row: CadtRow): void {
    const r = this.#rows.reader(row);
    const id = r.text('id');
    const warehouseProjectId = r.required('warehouseProjectId', r.text('warehouseProjectId'));
    const project = this.#projectByWarehouseId(warehouseProjectId);
    if (warehouseProjectId && !project) r.unknown('warehouseProjectId', 'unknown-project', `project ${warehouseProjectId}`);
    const labelType = r.pick('labelType', PICKLISTS.labelType, true);
    const label = r.required('label', r.text('label'));
    const [creditingPeriodStart, creditingPeriodEnd] = r.period('creditingPeriodStartDate', 'creditingPeriodEndDate');
    const [validityPeriodStart, validityPeriodEnd] = r.period('validityPeriodStartDate', 'validityPeriodEndDate');
    const unitQuantity = r.count('unitQuantity', { whole: true });
    const record = project && labelType && label ? labelRecord(project, {
      labelType: labelType as LabelRecord['labelType'], label, creditingPeriodStart, creditingPeriodEnd, validityPeriodStart, validityPeriodEnd,
      unitQuantity, labelLink: r.text('labelLink'),
    }) : undefined;
    const earlier = id ? this.#labels.get(id) : undefined;
    if (earlier) r.fail('id', 'duplicate-label', `label ${id} is already at ${earlier.row.locator}`);
    else if (id) this.#labels.set(id, { row, record });
    if (record) this.#rows.emit(row, record);
  }

  #readLabelUnit(row: CadtRow): void {
    const r = this.#rows.reader(row);
    const labelId = r.required('labelId', r.text('labelId'));
    const warehouseUnitId = r.required('warehouseUnitId', r.text('warehouseUnitId'));
    const entry = labelId ? this.#labels.get(labelId) : undefined;
    if (labelId && !entry) r.fail('labelId', 'unknown-label', `label ${labelId} is not in this upload's labels`);
    const unit = warehouseUnitId ? this.#unitsById.get(warehouseUnitId) : undefined;
    const storedIn = warehouseUnitId ? this.ledger.unitRegistries.get(warehouseUnitId) : undefined;
    if (warehouseUnitId && !unit && !storedIn) r.unknown('warehouseUnitId', 'unknown-unit', `unit ${warehouseUnitId}`);
    const label = entry?.record;
    const registry = unit?.project?.registry ?? storedIn;
    if (label && unit?.project && (unit.project.registry !== label.registry || unit.project.registryProjectId !== label.registryProjectId)) {
      r.fail('warehouseUnitId', 'other-project', `unit ${warehouseUnitId} is of project ${unit.project.registryProjectId}, not of the label's project ${label.registryProjectId}`);
    } else if (label && !unit && registry && registry !== label.registry) {
      r.fail('warehouseUnitId', 'other-project', `unit ${warehouseUnitId} is in registry ${registry}, not in the label's ${label.registry}`);
    }
    if (!label || !warehouseUnitId || r.errors.length > 0) return;
    label.blockKeys.push(warehouseUnitId);
    // A Letter of Authorization authorizes the units it covers: the block carries its reference, so the
    // Article 6 rules see the authorization.
    if (unit?.block) unit.block.article6Authorization ??= authorizationOf([label]);
  }

  // ---- issuances: known only through their units, so their first figure is the sum of this upload's ----

  #emitIssuancesAndBlocks(): void {
    for (const unit of this.#units) {
      if (unit.block && unit.reader.errors.length === 0 && unit.issuance) this.#totals.add(unit.issuance.key, unit.block);
    }
    for (const { row, reader: r, issuance, project } of this.#issuances.values()) {
      this.#totals.checkNamed(r, 'id', issuance.key);
      const record = project ? this.#totals.record(issuance, project) : undefined;
      if (record) this.#rows.emit(row, record);
    }
    for (const unit of this.#units) {
      const issuance = unit.embedded && unit.issuance && unit.project ? this.#totals.record(unit.issuance, unit.project) : undefined;
      if (issuance) this.#rows.emit(unit.row, issuance);
      if (unit.block) this.#rows.emit(unit.row, unit.block);
    }
  }
}
