import { z } from 'zod';
import {
  caDeclaration, caStatus, coveredByNdc, eventKind, labelType, projectStatus, retirementPurpose, unitStatus, unitType,
} from './db/enums.ts';

// What connectors yield (DESIGN §2): one shape for every registry. Connectors fill these from raw
// records; the ingest job validates them here, applies the taxonomy and writes the ledger.
// Raw strings the taxonomy interprets (country, methodology) are passed as written.

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const text = z.string().trim().min(1);
const optionalText = z.string().trim().min(1).optional();
const quantity = z.number().finite().positive('quantity must be positive');
const levy = z.number().finite().nonnegative().optional();
const year = z.number().int().min(1990).max(2100);

const enumOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values);

/** A parsed serial range (connectors/runtime/serial.ts), checked against the quantity before it gets here. */
export const SerialRangeSchema = z.object({
  numberSpace: text,
  start: z.number().int().nonnegative().refine(Number.isSafeInteger),
  end: z.number().int().nonnegative().refine(Number.isSafeInteger),
  raw: text,
}).refine((s) => s.end >= s.start, { message: 'serial end is before start' });

/** Identifies a project inside its registry: the registry's own id as written (`1340`, `GS7495`, `ACR0934`). */
const projectRef = { registry: text, registryProjectId: text };

/** Another programme the registry says the project is in, or came from (projects.otherPrograms). */
export const OtherProgramRecord = z.object({
  program: optionalText,
  projectId: optionalText,
  relation: z.enum(['same-activity', 'converted-from']),
  field: text,
});

export const ProjectRecord = z.object({
  type: z.literal('project'),
  ...projectRef,
  name: text,
  /**
   * The source names no project, so `name` is an identifier standing in for one (`CDM RW-7014`): it
   * never replaces a name another source gave.
   */
  nameIsIdentifier: z.boolean().optional(),
  /** Other identifiers the registry writes for the project (Cercarbono's code `CDC-271` beside its id `274`). */
  alternateIds: z.array(text).optional(),
  /**
   * `registryProjectId` is one of the project's alternate ids, as a source that knows no other writes
   * it: the batch files the record under the project's id where the ledger pairs the two, and under
   * this one until a source does (the project then takes its own id).
   */
  idIsAlternate: z.boolean().optional(),
  nameJa: optionalText,
  proponent: optionalText,
  /** As the registry writes it; resolved to ISO 3166-1 by the taxonomy. */
  country: optionalText,
  region: optionalText,
  methodology: optionalText,
  status: enumOf(projectStatus.enumValues).optional(),
  statusRaw: optionalText,
  creditingPeriodStart: isoDate.optional(),
  creditingPeriodEnd: isoDate.optional(),
  registeredOn: isoDate.optional(),
  estimatedAnnualQuantity: z.number().finite().nonnegative().optional(),
  /** What the registry expects the project to credit in all, where it states a total rather than a yearly figure (J-Credit 認証見込み量, to FY2050). */
  estimatedTotalQuantity: z.number().finite().nonnegative().optional(),
  eligibility: z.array(text).default([]),
  coBenefits: z.array(text).default([]),
  latitude: z.number().min(-90).max(90).optional(),
  longitude: z.number().min(-180).max(180).optional(),
  registryUrl: z.string().url().optional(),
  otherPrograms: z.array(OtherProgramRecord).optional(),
  /** Whether the host country counts the project's reductions toward its NDC (CAD Trust `coveredByNDC`). */
  coveredByNdc: enumOf(coveredByNdc.enumValues).optional(),
});

export const IssuanceRecord = z.object({
  type: z.literal('issuance'),
  ...projectRef,
  /** The registry's batch id, or a key derived from what identifies the issuance (vintage, date). */
  issuanceKey: text,
  vintageStart: isoDate.optional(),
  vintageEnd: isoDate.optional(),
  vintageYear: year.optional(),
  issuedOn: isoDate.optional(),
  /** The issued quantity; with `quantityFromBlocks`, only a first figure the ledger replaces by its blocks' sum. */
  quantity,
  /** The registry gives no figure for this issuance: it is the sum of the blocks that carry its key. */
  quantityFromBlocks: z.boolean().default(false),
  creditType: optionalText,
  /** Vocabulary `eligibility` codes the registry states for the whole issuance (Gold Standard's `Label`). */
  eligibility: z.array(text).optional(),
  serial: SerialRangeSchema.optional(),
  bufferQuantity: levy,
  shareOfProceedsQuantity: levy,
  omgeQuantity: levy,
  caReserveQuantity: levy,
});

export const BlockRecord = z.object({
  type: z.literal('block'),
  ...projectRef,
  /** The registry's identity for the block: its own id, else the serial string. */
  blockKey: text,
  issuanceKey: optionalText,
  serial: SerialRangeSchema.optional(),
  /** The serial as written when it is no range Tally can compare (letters in it, an unknown unit type); only without `serial`. */
  serialRaw: optionalText,
  quantity,
  vintageStart: isoDate.optional(),
  vintageEnd: isoDate.optional(),
  vintageYear: year.optional(),
  creditType: optionalText,
  unitType: enumOf(unitType.enumValues).optional(),
  status: enumOf(unitStatus.enumValues),
  statusDate: isoDate.optional(),
  retirementBeneficiary: optionalText,
  retirementReason: optionalText,
  retirementPurpose: enumOf(retirementPurpose.enumValues).optional(),
  retirementDetails: optionalText,
  accountHolder: optionalText,
  eligibility: z.array(text).default([]),
  article6Authorization: optionalText,
  caDeclaration: enumOf(caDeclaration.enumValues).optional(),
  caStatus: enumOf(caStatus.enumValues).optional(),
  tokenizationMarker: optionalText,
});

export const EventRecord = z.object({
  type: z.literal('event'),
  ...projectRef,
  kind: enumOf(eventKind.enumValues),
  /** Derived from the source record, so the same record always yields the same key. */
  eventKey: text,
  occurredOn: isoDate.optional(),
  quantity,
  vintageYear: year.optional(),
  blockKey: optionalText,
  issuanceKey: optionalText,
  counterpartyRegistry: optionalText,
  details: z.record(z.string(), z.unknown()).default({}),
});

/** A CAD Trust label of a project (a Letter of Authorization, a certification) and the blocks it covers. */
export const LabelRecord = z.object({
  type: z.literal('label'),
  ...projectRef,
  labelType: enumOf(labelType.enumValues),
  label: text,
  creditingPeriodStart: isoDate.optional(),
  creditingPeriodEnd: isoDate.optional(),
  validityPeriodStart: isoDate.optional(),
  validityPeriodEnd: isoDate.optional(),
  unitQuantity: z.number().finite().nonnegative().optional(),
  labelLink: optionalText,
  /** Block keys, in the project's registry, of the blocks the label covers. */
  blockKeys: z.array(text).default([]),
});

/**
 * What a source reports of units another registry issued and keeps (DESIGN §3, "Sources of record and
 * mirrors"): CAD Trust's data layer listing CDM units, Gold Standard's export listing CDM CERs. Kept as
 * evidence beside the units of record, matched to them by serial range or by project, vintage and
 * quantity (jobs/mirrors.ts), and never counted as tonnes. A project a mirror describes (`units` absent)
 * is kept the same way: it names the registry's project without making one.
 */
export const MirrorRecord = z.object({
  type: z.literal('mirror'),
  /** The registry of record: the one that issued the units and keeps them. */
  registry: text,
  /** The source that reports them: a registry slug, or `cad-trust` for CAD Trust's data layer. */
  reportedBy: text,
  /** The source's identity for the record (its unit id, a serial range, a project link). */
  mirrorKey: text,
  kind: z.enum(['project', 'units']),
  /** The registry of record's project id, where the source states it (`RW-7014` from a Kyoto serial). */
  registryProjectId: optionalText,
  /** The source's own reference for the project (a CAD Trust project link, a GS project id). */
  projectRef: optionalText,
  projectName: optionalText,
  country: optionalText,
  serial: SerialRangeSchema.optional(),
  quantity: quantity.optional(),
  vintageYear: year.optional(),
  creditType: optionalText,
  status: enumOf(unitStatus.enumValues).optional(),
  statusDate: isoDate.optional(),
}).refine((m) => m.kind === 'project' || (m.quantity !== undefined && m.status !== undefined), { message: 'units need a quantity and a status' });

/**
 * A figure a source publishes about a registry's own totals (the CDM report's `Total` row, Verra's
 * `Total Vintage Quantity`): no tonnes of its own, only what the ledger is reconciled with (jobs/reconcile.ts).
 */
export const StatedRecord = z.object({
  type: z.literal('stated'),
  registry: text,
  /** Absent: the figure is the registry's (the whole source's) total. */
  registryProjectId: optionalText,
  /** With a project: the figure is for that project's vintage. */
  vintageYear: year.optional(),
  /** The vintage period, where the source states one (Verra's vintages may be half a year). */
  vintageStart: isoDate.optional(),
  vintageEnd: isoDate.optional(),
  measure: z.enum(['issued', 'retired', 'cancelled', 'records']),
  quantity: z.number().finite().nonnegative(),
  /** The source's own words for the figure. */
  statedAs: text,
  statedOn: isoDate.optional(),
});

export const CanonicalRecord = z.discriminatedUnion('type', [ProjectRecord, IssuanceRecord, BlockRecord, EventRecord, LabelRecord, MirrorRecord, StatedRecord]);

export type ProjectRecord = z.infer<typeof ProjectRecord>;
export type IssuanceRecord = z.infer<typeof IssuanceRecord>;
export type BlockRecord = z.infer<typeof BlockRecord>;
export type EventRecord = z.infer<typeof EventRecord>;
export type LabelRecord = z.infer<typeof LabelRecord>;
export type MirrorRecord = z.infer<typeof MirrorRecord>;
export type StatedRecord = z.infer<typeof StatedRecord>;
export type CanonicalRecord = z.infer<typeof CanonicalRecord>;
/** What a connector builds before validation: the same shape, defaults not yet applied. */
export type CanonicalInput = z.input<typeof CanonicalRecord>;
