import type { z } from 'zod';
import type { BlockRecord, CanonicalInput } from '../schema/canonical.ts';
import type { HttpClient, HttpClientOptions } from './runtime/http.ts';
import type { PagedStream } from './runtime/paging.ts';
import type { SerialResult } from './runtime/serial.ts';

// The connector contract (CONVENTIONS: Airbyte/Singer). A connector knows one source: it declares its
// registry, the file formats it reads and the API streams it pulls, and maps each raw record to
// canonical records. It never touches the database; jobs/ingest.ts does.

/** One record as received: a file row or an API entity, kept as it came. */
export type RawRecord = {
  stream: string;
  /** Where it came from inside the source: `line 12`, `offset 800`, an entity id. */
  locator: string;
  /** The registry's own id for the record, where it has one. */
  recordKey?: string;
  payload: Record<string, unknown>;
};

/**
 * A problem with one row, in words the person who sent the file can act on. `message` is in English;
 * where the catalogues (schema/messages) word the code (`rowError.<code>`), `params` holds what its
 * message needs besides the locator and field, so that readers get it in their language.
 */
export type RowError = {
  locator: string;
  field?: string;
  code: string;
  message: string;
  params?: Record<string, string | number>;
};

/** A row's canonical records, its errors (the row is rejected), and warnings (the row is kept; a value was left out). */
export type Mapped = { records: CanonicalInput[]; errors: RowError[]; warnings?: RowError[] };

/** Where a file row was read: the sheet of a workbook (J-Credit publishes one sheet per project class). */
export type RowContext = { sheet?: string | undefined };

/** One row of a file as a mapper sees it inside a group: its cells and where it was read. */
export type SourceRow = { values: Record<string, string>; locator: string };

/** One column a file format reads (see runtime/columns.ts). */
export type Column = {
  /** Whether a correct record cannot be made without it: a file that lacks it is not this export. */
  required?: boolean;
  /** Names the column had in other generations of the export → the generation (`APX before 2023`). */
  aliases?: Readonly<Record<string, string>>;
};

/** An export a registry publishes as a file (CSV, XLSX), recognised by its header row. */
export type FileFormat = {
  /** e.g. `verra-vcu-export`. */
  id: string;
  registry: string;
  stream: string;
  description: string;
  /** Every column the mapper reads, under the name it reads it by (the registry's name today). */
  columns: Readonly<Record<string, Column>>;
  /** What today's names are called, for the batch record (`2026`, `APX 2024–2026`). */
  generation: string;
  /**
   * A column whose values tell this export from another with the same columns (ACR's and CAR's APX
   * reports once named them alike; their project ids say whose they are), read from the first row.
   */
  distinguishedBy?: { column: string; pattern: RegExp };
  /** Date order where a date is ambiguous (`03/04/2020`). */
  dayFirst?: boolean;
  map(row: Record<string, string>, locator: string, context?: RowContext): Mapped;
  /**
   * For a list that writes one record over consecutive rows (J-Credit: one row per methodology of a
   * project): the key those rows share. Consecutive rows with the same key are one raw record
   * (`{ rows: [...] }`) and reach `map` together, each with its own locator for row-level errors.
   */
  group?: {
    key(row: Record<string, string>, context: RowContext): string;
    map(rows: SourceRow[], context: RowContext): Mapped;
  };
};

/** One kind of record an API serves (projects, issuances, retirements…), pulled in full. */
export type ApiStream = {
  name: string;
  /** Pulls every record; the stream remembers the total the registry reported, for reconciliation. */
  pull(http: HttpClient): PagedStream<RawRecord>;
  /** The registry's name for that total (`totalEntities`, `X-Total-Count`…), for messages. */
  totalField: string;
  /**
   * Unit statuses this stream lists completely: after a reconciled pull, the registry's blocks in one
   * of these statuses that the pull did not list are superseded (the registry split or removed them).
   * Leave it out for a stream that is not the whole of anything.
   */
  snapshotOf?: readonly UnitStatus[];
  /** Whether a record saved from this stream's responses is one of its own (for `tally ingest` of a JSON file). */
  recognises?(record: Record<string, unknown>): boolean;
  map(raw: RawRecord): Mapped;
};

export type UnitStatus = BlockRecord['status'];

/** A connector's API mode: its configuration (validated), how to reach the source, and its streams. */
export type ApiMode<Config = any> = {
  config: z.ZodType<Config>;
  /** The HTTP client this source needs: base URL, headers, User-Agent, rate limit. */
  http(config: Config): HttpClientOptions;
  /** Whether the source answers as expected: resolves with a one-line description, or throws. */
  check(http: HttpClient, config: Config): Promise<string>;
  /** In dependency order: projects first. */
  streams(config: Config): ApiStream[];
};

/**
 * A registry as Tally knows it, declared once in its connector's folder: its row in the ledger
 * (names, kind, how it numbers serials), and how the rest of the world names it and its ids and serials.
 * The registry seed, the linker's programme names, serial lookups and the CAD Trust mapping all read it.
 */
export type RegistryManifest = {
  /** The slug: `verra`, `gold-standard`… */
  id: string;
  name: string;
  nameJa: string;
  kind: 'independent' | 'compliance' | 'un-mechanism' | 'bilateral' | 'national';
  /** DESIGN §5: numbered registry-wide, per issuance batch, Kyoto-style, or no serials published. */
  serialScheme: 'registry-wide' | 'per-issuance' | 'kyoto' | 'none';
  url: string | null;
  /**
   * Names other programmes write for it (Verra's `otherGhgProgramName`, CAD Trust's related projects,
   * project ids such as `VCS 1528`): each matched as a whole word, case ignored.
   */
  programNames?: readonly string[];
  /** The prefix its project ids carry when other registries cite them (`VCS` 1528, `CAR`400, `GS`7495). */
  projectIdPrefix?: string;
  /** Its name in CAD Trust's `registries` picklist, where the picklist has one. */
  cadTrustName?: string;
  /** Reads its serial numbers, for lookups of a serial whose registry the asker does not know. */
  parseSerial?(raw: string): SerialResult;
  /**
   * How its own terms read a unit status another source reports for its units (DESIGN §3, mirrors): the
   * CDM registry retires nothing, so CDM units CAD Trust calls retired were voluntarily cancelled.
   */
  mirrorStatuses?: Readonly<Partial<Record<UnitStatus, UnitStatus>>>;
};

/**
 * Files read together as one upload and one batch (an AEF submission's tables, a CAD Trust template's
 * sheets or files), recognised by their content; jobs/ingest-files.ts gives each its job.
 */
export type UploadFormat = {
  id: 'article6-aef' | 'cadt-v1' | 'cadt-v2';
  description: string;
  recognises(path: string): Promise<boolean>;
};

export type Connector = {
  /** The registry this folder reads. */
  registry: RegistryManifest;
  /** Other registries whose records it stores (J-Credit's predecessor schemes). */
  otherRegistries?: readonly RegistryManifest[];
  files: readonly FileFormat[];
  api?: ApiMode;
};
