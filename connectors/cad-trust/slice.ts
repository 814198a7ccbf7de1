import { createHash } from 'node:crypto';
import type { OtherProgram } from '../../schema/db/projects.ts';

// A slice of the ledger as the CAD Trust exports take it (jobs/cadt-export.ts reads it): plain rows, one
// type per kind of record, so the export-v1 and export-v2 modules know CAD Trust and nothing of storage.

export type SliceRegistry = { id: string; name: string; url: string | null };

export type SliceProject = {
  id: number; key: string; registry: string; registryProjectId: string; name: string; proponent: string | null;
  country: string | null; region: string | null; sector: string | null; cadtProjectType: string | null; projectType: string | null;
  category: string | null; methodologyRaw: string | null; status: string; registeredOn: string | null;
  creditingPeriodStart: string | null; creditingPeriodEnd: string | null; estimatedAnnualQuantity: number | null;
  coBenefits: string[]; coveredByNdc: string | null; latitude: number | null; longitude: number | null; registryUrl: string | null;
  otherPrograms: OtherProgram[] | null;
  /** The day the ledger last saw the project (its status holds as of then). */
  seenOn: string;
  /** The CAD Trust key of the upload that brought the project (`warehouseProjectId` / `cadTrustProjectId`), kept so a re-export names it the same. */
  cadtId: string | null;
};

export type SliceIssuance = {
  id: number; projectId: number; issuanceKey: string; vintageStart: string | null; vintageEnd: string | null; vintageYear: number | null;
  issuedOn: string | null; quantity: number;
  /** The registry's own issuance id a CAD Trust v2 upload gave (`issuanceId`), where one did. */
  cadtIssuanceId: string | null;
};

export type SliceBlock = {
  id: number; projectId: number; issuanceId: number | null; registry: string; blockKey: string;
  numberSpace: string | null; serialStart: number | null; serialEnd: number | null; serialRaw: string | null;
  quantity: number; vintageYear: number | null; unitType: string | null; status: string; statusDate: string | null;
  retirementBeneficiary: string | null; retirementReason: string | null; retirementDetails: string | null; accountHolder: string | null;
  article6Authorization: string | null; caDeclaration: string | null; caStatus: string | null;
};

export type SliceLabel = {
  id: number; projectId: number; labelType: string; label: string; creditingPeriodStart: string | null; creditingPeriodEnd: string | null;
  validityPeriodStart: string | null; validityPeriodEnd: string | null; unitQuantity: number | null; labelLink: string | null;
  /** The blocks of the slice the label covers. */
  blockIds: number[];
};

export type LedgerSlice = {
  registries: ReadonlyMap<string, SliceRegistry>;
  projects: SliceProject[];
  issuances: SliceIssuance[];
  blocks: SliceBlock[];
  labels: SliceLabel[];
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string | null | undefined): value is string => Boolean(value && UUID.test(value));

// Tally's namespace for the name-based UUIDs of its exports (RFC 9562 version 5).
const NAMESPACE = Buffer.from('5c1e8f0a7b3d4c2e9a6f0d1b2c3e4f50', 'hex');

/**
 * A stable UUID for a ledger record: the same record gets the same key in every export, so a CAD Trust
 * node that receives a later export updates its records instead of adding new ones.
 */
export function nameUuid(kind: string, name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${kind}:${name}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The CAD Trust keys of a slice's records: kept from the upload where the record came from one, else derived. */
export function sliceKeys(slice: LedgerSlice) {
  const projects = new Map(slice.projects.map((p) => [p.id, p]));
  return {
    project: (p: SliceProject) => (isUuid(p.cadtId) ? p.cadtId.toLowerCase() : nameUuid('project', p.key)),
    issuance: (i: SliceIssuance) => (isUuid(i.issuanceKey) ? i.issuanceKey.toLowerCase() : nameUuid('issuance', `${projects.get(i.projectId)?.key}|${i.issuanceKey}`)),
    unit: (b: SliceBlock) => (isUuid(b.blockKey) ? b.blockKey.toLowerCase() : nameUuid('unit', `${b.registry}|${b.blockKey}`)),
    label: (l: SliceLabel) => nameUuid('label', `${projects.get(l.projectId)?.key}|${l.labelType}|${l.label}`),
    child: (kind: string, name: string) => nameUuid(kind, name),
  };
}
