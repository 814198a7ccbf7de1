import type { z } from 'zod';
import type { BlockRecord, CanonicalInput } from '../schema/canonical.ts';
import type { HttpClient, HttpClientOptions } from './runtime/http.ts';
import type { PagedStream } from './runtime/paging.ts';

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

/** A problem with one row, in words the person who sent the file can act on. */
export type RowError = {
  locator: string;
  field?: string;
  code: string;
  message: string;
};

/** A row's canonical records, its errors (the row is rejected), and warnings (the row is kept; a value was left out). */
export type Mapped = { records: CanonicalInput[]; errors: RowError[]; warnings?: RowError[] };

/** Where a file row was read: the sheet of a workbook (J-Credit publishes one sheet per project class). */
export type RowContext = { sheet?: string | undefined };

/** One row of a file as a mapper sees it inside a group: its cells and where it was read. */
export type SourceRow = { values: Record<string, string>; locator: string };

/** An export a registry publishes as a file (CSV, XLSX, JSON), recognised by its headers. */
export type FileFormat = {
  /** e.g. `verra-vcu-export`. */
  id: string;
  registry: string;
  stream: string;
  description: string;
  /** Columns that together identify this export (after header normalization). */
  requiredHeaders: readonly string[];
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

export type Connector = {
  registry: string;
  name: string;
  files: readonly FileFormat[];
  api?: ApiMode;
};
