import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { isRecord } from '../runtime/values.ts';

// CAD Trust v2 records (Data Dictionary v2.0.2, `Chia-Network/cadt` docs/cadtrust-schema-v2.0.2.json) as a
// v2 node serves them: `GET /v2/<entity>?page=&limit=` answers `{ page, pageCount, data: [...] }`, `GET
// /v2/<entity>/<id>` one record. Every entity has a UUID key `cadTrust{Entity}Id`; children name their
// parents by those keys (an issuance its verification, project methodology and location; a unit its
// issuance; a unit-label a unit and a label). A file is one of:
//
// - a document keyed by entity, each holding a list or a saved page (`{"project": [...], "unit": {...}}`);
//   the keys may be written as the endpoint (`unit-label`), in camel case (`unitLabel`) or as the schema's
//   table (`unit_label`), singular or plural;
// - a saved page, a list, or one record, of one entity, recognised from the record's fields.
//
// The files given together are one upload. Files are read whole (a saved answer holds at most 1,000 records).

export const V2_ENTITIES = [
  'program', 'methodology', 'stakeholder', 'project', 'project-methodology', 'stakeholder-projects', 'validation', 'verification',
  'location', 'estimation', 'rating', 'co-benefit', 'issuance', 'unit', 'label', 'unit-label',
] as const;
export type V2Entity = (typeof V2_ENTITIES)[number];

/** Each entity's key field (the node's UUID for the record). */
export const V2_KEY: Record<V2Entity, string> = {
  program: 'cadTrustProgramId', methodology: 'cadTrustMethodologyId', stakeholder: 'cadTrustStakeholderId', project: 'cadTrustProjectId',
  'project-methodology': 'cadTrustProjectMethodologyId', 'stakeholder-projects': 'cadTrustStakeholderProjectId', validation: 'cadTrustValidationId',
  verification: 'cadTrustVerificationId', location: 'cadTrustLocationId', estimation: 'cadTrustEstimationId', rating: 'cadTrustRatingId',
  'co-benefit': 'cadTrustCobenefitId', issuance: 'cadTrustIssuanceId', unit: 'cadTrustUnitId', label: 'cadTrustLabelId', 'unit-label': 'cadTrustUnitLabelId',
};

const has = (record: Record<string, unknown>, ...fields: string[]) => fields.every((f) => record[f] !== undefined && record[f] !== null);

/**
 * How a lone record shows its entity, most specific first: join records carry both parents' keys, and
 * each entity has a field no other has.
 */
const RECOGNISE: [V2Entity, (r: Record<string, unknown>) => boolean][] = [
  ['unit-label', (r) => has(r, 'cadTrustUnitId', 'cadTrustLabelId')],
  ['unit', (r) => has(r, 'cadTrustUnitId') || has(r, 'unitSerialId')],
  ['issuance', (r) => has(r, 'issuanceId') || (has(r, 'cadTrustIssuanceId') && has(r, 'cadTrustVerificationId'))],
  ['project-methodology', (r) => has(r, 'cadTrustProjectMethodologyId', 'cadTrustMethodologyId')],
  ['stakeholder-projects', (r) => has(r, 'cadTrustStakeholderId', 'cadTrustProjectId') && !has(r, 'stakeholderName')],
  ['stakeholder', (r) => has(r, 'stakeholderName')],
  ['verification', (r) => has(r, 'verificationId')],
  ['validation', (r) => has(r, 'validationId')],
  ['location', (r) => has(r, 'locationCountry')],
  ['estimation', (r) => has(r, 'estimationStartDate') || has(r, 'cadTrustEstimationId')],
  ['rating', (r) => has(r, 'ratingType') || has(r, 'cadTrustRatingId')],
  ['co-benefit', (r) => has(r, 'cobenefit')],
  ['label', (r) => has(r, 'labelType') || has(r, 'labelName')],
  ['project', (r) => has(r, 'projectRegistryName') || has(r, 'cadTrustProjectId', 'projectName')],
  ['methodology', (r) => has(r, 'methodologyCode')],
  ['program', (r) => has(r, 'programName')],
];

/** The entity a record is, from its fields. */
export function v2EntityOfRecord(record: Record<string, unknown>): V2Entity | undefined {
  return RECOGNISE.find(([, test]) => test(record))?.[0];
}

const fold = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
const BY_NAME = new Map(V2_ENTITIES.flatMap((e) => [[fold(e), e], [`${fold(e)}s`, e]] as const));
BY_NAME.set('cobenefits', 'co-benefit');
BY_NAME.set('stakeholderproject', 'stakeholder-projects');

/** The entity a document key names: `unit-label`, `unitLabel`, `unit_label`, `units`. */
export function v2EntityOfName(name: string): V2Entity | undefined {
  return BY_NAME.get(fold(name));
}

/** One record as uploaded: its entity, where it is (`file unit[3]`), its key, and its fields as given. */
export type V2Row = { entity: V2Entity; locator: string; id?: string; values: Record<string, unknown> };
/** A record whose entity could not be told, or a key that names none: a row error of the upload. */
export type V2Problem = { locator: string; message: string };

const ENVELOPE_KEYS = new Set(['page', 'pageCount', 'limit', 'total', 'totalCount', 'count', 'data', 'message', 'success']);

/** The list a value holds: itself, a saved page's `data`, or one record. */
function recordsOf(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.data)) return o.data;
    return [o];
  }
  return undefined;
}

const keyOf = (entity: V2Entity, values: Record<string, unknown>) => {
  const id = values[V2_KEY[entity]];
  return typeof id === 'string' && id.trim() !== '' ? id.trim() : undefined;
};

type Shape = { kind: 'document'; entries: [string, V2Entity | undefined, unknown[]][] } | { kind: 'records'; records: unknown[] };

/** A v2 record carries its node's keys; other registries' saved answers (which may have a `programName`) do not. */
const isV2Record = (r: unknown): r is Record<string, unknown> => isRecord(r) && Object.keys(r).some((f) => /^cadTrust\w+Id$/.test(f)) && v2EntityOfRecord(r) !== undefined;

/** What a parsed JSON value is: a document keyed by entity, or the records of one entity; undefined when neither. */
function shapeOf(document: unknown): Shape | undefined {
  if (Array.isArray(document)) return document.some(isV2Record) ? { kind: 'records', records: document } : undefined;
  if (!isRecord(document)) return undefined;
  if (Array.isArray(document.data)) {
    return document.data.some(isV2Record) ? { kind: 'records', records: document.data } : undefined;
  }
  const keys = Object.keys(document).filter((k) => !ENVELOPE_KEYS.has(k));
  const named = keys.filter((k) => v2EntityOfName(k) && recordsOf(document[k]) !== undefined);
  const withKeys = named.some((k) => recordsOf(document[k])!.some((r) => isRecord(r) && Object.keys(r).some((f) => /^cadTrust\w+Id$/.test(f))));
  if (withKeys) return { kind: 'document', entries: keys.map((k) => [k, v2EntityOfName(k), recordsOf(document[k]) ?? []]) };
  // One record, as `GET /v2/<entity>/<id>` answers.
  return isV2Record(document) ? { kind: 'records', records: [document] } : undefined;
}

async function parse(path: string): Promise<unknown> {
  try {
    return JSON.parse((await readFile(path, 'utf8')).replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
}

/** The first bytes of a file, so a large saved answer of another source is not parsed whole just to be told apart. */
export async function fileHead(path: string, bytes = 65_536): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Whether a file holds CAD Trust v2 records (keys `cadTrust{Entity}Id`). */
export async function isCadtV2File(path: string): Promise<boolean> {
  if (!/\.json$/i.test(path) || !/"cadTrust\w+Id"\s*:/.test(await fileHead(path))) return false;
  return shapeOf(await parse(path)) !== undefined;
}

/** Every record of one file, with the problems that keep a record from being read at all. */
export async function readCadtV2File(path: string): Promise<{ rows: V2Row[]; problems: V2Problem[] }> {
  const file = basename(path);
  const document = await parse(path);
  const shape = shapeOf(document);
  if (!shape) throw new Error('the file holds no CAD Trust v2 records (expected JSON with cadTrust…Id keys: a saved /v2/<entity> answer, or a document keyed by entity)');
  const rows: V2Row[] = [];
  const problems: V2Problem[] = [];
  const counters = new Map<string, number>();
  const push = (entity: V2Entity, name: string, value: unknown, index: number) => {
    const locator = `${file} ${name}[${index}]`;
    if (!isRecord(value)) {
      problems.push({ locator, message: `${locator}: is not a record` });
      return;
    }
    const id = keyOf(entity, value);
    rows.push({ entity, locator: id ? `${locator} (${V2_KEY[entity]} ${id})` : locator, ...(id ? { id } : {}), values: value });
  };
  if (shape.kind === 'document') {
    for (const [name, entity, records] of shape.entries) {
      if (!entity) {
        const aef = /^aef/i.test(name);
        problems.push({ locator: `${file} ${name}`, message: aef
          ? `${file}: ${name}: Article 6 AEF tables are read from an AEF upload (a document keyed aefT1Submission…aefT5AuthorizedEntities), not from a CAD Trust v2 upload`
          : `${file}: ${name}: names no CAD Trust v2 entity (expected ${V2_ENTITIES.join(', ')})` });
        continue;
      }
      records.forEach((record, i) => push(entity, name, record, i));
    }
    return { rows, problems };
  }
  for (const record of shape.records) {
    const entity = isRecord(record) ? v2EntityOfRecord(record) : undefined;
    if (!entity) {
      const n = rows.length + problems.length;
      const fields = isRecord(record) ? Object.keys(record).slice(0, 8).join(', ') : typeof record;
      problems.push({ locator: `${file} item ${n}`, message: `${file} item ${n}: is no CAD Trust v2 record Tally reads (fields: ${fields})` });
      continue;
    }
    const index = counters.get(entity) ?? 0;
    counters.set(entity, index + 1);
    push(entity, entity, record, index);
  }
  return { rows, problems };
}
