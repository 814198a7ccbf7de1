import type { CanonicalInput } from '../schema/canonical.ts';

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

export type Mapped = { records: CanonicalInput[]; errors: RowError[] };

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
  map(row: Record<string, string>, locator: string): Mapped;
};

export type Connector = {
  registry: string;
  name: string;
  files: readonly FileFormat[];
};
