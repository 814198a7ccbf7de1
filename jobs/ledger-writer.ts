import { sql, type SQL } from 'drizzle-orm';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { rows as queryRows, type Database } from '../schema/database.ts';

// Bulk writes for the ingest job. A chunk of rows travels as one jsonb parameter and is unpacked with
// jsonb_to_recordset: one round trip per chunk, no parameter limit, the same SQL on PGlite and on a
// server. Upserts write a row only when something in it differs, so re-ingesting changes nothing.

/**
 * How an incoming value meets the stored one:
 * - `replace`: the incoming value wins (block state as the registry reports it now);
 * - `coalesce`: the incoming value wins unless it is null/empty, so a sparse source does not erase
 *   what a fuller one said (a project seen in a transaction export and in the project export);
 * - `least`: the earlier date wins (an issuance's date is its first event).
 */
export type Merge = 'replace' | 'coalesce' | 'least';

export type WriteSpec = {
  table: PgTable;
  /** Natural-key columns (TypeScript names), the ON CONFLICT target. */
  key: readonly string[];
  /** Per column: how to merge. Columns not listed are written on insert only. Omit for insert-only tables. */
  merge?: Readonly<Record<string, Merge>>;
  /** SQL literals used on insert where the incoming value is null (a NOT NULL column whose merge is `coalesce`). */
  insertDefaults?: Readonly<Record<string, string>>;
  /** Whether the caller needs the stored ids back (default true); link tables do not, and skip the lookup. */
  returnIds?: boolean;
};

export type WriteResult = {
  /** The stored id for each input row, in input order. */
  ids: number[];
  inserted: number;
  updated: number;
  /** Distinct natural keys among the input rows. */
  distinct: number;
  /** The natural key of each input row, as compared (for callers that count across chunks). */
  keys: string[];
};

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

type ColumnInfo = { key: string; name: string; type: string; generated: boolean; notNull: boolean };

const columnCache = new WeakMap<PgTable, { table: string; columns: Map<string, ColumnInfo> }>();

function describe(table: PgTable) {
  let described = columnCache.get(table);
  if (!described) {
    const config = getTableConfig(table);
    const columns = new Map<string, ColumnInfo>();
    for (const [key, column] of Object.entries(table as unknown as Record<string, unknown>)) {
      const c = column as { getSQLType?: () => string; generated?: unknown; generatedIdentity?: unknown; notNull?: boolean };
      if (typeof c?.getSQLType !== 'function') continue;
      columns.set(key, { key, name: snake(key), type: c.getSQLType(), generated: Boolean(c.generated || c.generatedIdentity), notNull: Boolean(c.notNull) });
    }
    described = { table: config.name, columns };
    columnCache.set(table, described);
  }
  return described;
}

const keyOf = (row: Record<string, unknown>, key: readonly string[]) => JSON.stringify(key.map((k) => row[k] ?? null));

const isEmpty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);

/**
 * Rows with the same natural key in one chunk are merged first: one statement may not touch a row twice.
 * `keys` holds each row's natural key. A row is copied only when another is merged into it.
 */
function mergeDuplicates(rows: Record<string, unknown>[], keys: string[], spec: WriteSpec): Record<string, unknown>[] {
  const merged = new Map<string, Record<string, unknown>>();
  const copied = new Set<string>();
  rows.forEach((row, i) => {
    const k = keys[i]!;
    let existing = merged.get(k);
    if (!existing) {
      merged.set(k, row);
      return;
    }
    if (!copied.has(k)) {
      existing = { ...existing };
      merged.set(k, existing);
      copied.add(k);
    }
    for (const [column, rule] of Object.entries(spec.merge ?? {})) {
      const incoming = row[column];
      if (rule === 'replace') existing[column] = incoming;
      else if (rule === 'coalesce') {
        if (!isEmpty(incoming)) existing[column] = incoming;
      } else if (rule === 'least') {
        const current = existing[column];
        if (isEmpty(current) || (!isEmpty(incoming) && String(incoming) < String(current))) existing[column] = incoming;
      }
    }
  });
  return [...merged.values()];
}

function mergeExpression(table: string, column: ColumnInfo, rule: Merge, insertDefault?: string): SQL {
  const current = sql.raw(`${table}.${column.name}`);
  // A column's insert default stands for "not given" (a project status of 'unknown'): it must not
  // overwrite what a fuller source said.
  const incoming = sql.raw(insertDefault ? `nullif(excluded.${column.name}, ${insertDefault})` : `excluded.${column.name}`);
  switch (rule) {
    case 'replace':
      return incoming;
    case 'coalesce':
      return column.type.endsWith('[]')
        ? sql`case when cardinality(${incoming}) > 0 then ${incoming} else ${current} end`
        : sql`coalesce(${incoming}, ${current})`;
    case 'least':
      return sql`least(${incoming}, ${current})`;
  }
}

/**
 * Inserts rows, or updates the stored row with the same natural key where the merged values differ.
 * Returns the id of every input row.
 */
export async function writeRows(db: Database, spec: WriteSpec, input: Record<string, unknown>[]): Promise<WriteResult> {
  if (input.length === 0) return { ids: [], inserted: 0, updated: 0, distinct: 0, keys: [] };
  const { table, columns } = describe(spec.table);
  const keys = input.map((row) => keyOf(row, spec.key));
  const rows = mergeDuplicates(input, keys, spec);

  const used = [...columns.values()].filter((c) => !c.generated && rows.some((r) => r[c.key] !== undefined));
  for (const k of spec.key) if (!used.some((c) => c.key === k)) used.push(columns.get(k)!);
  const payload = rows.map((row) => Object.fromEntries(used.map((c) => [c.name, row[c.key] ?? null])));
  const recordset = sql.raw(used.map((c) => `${c.name} ${c.type}`).join(', '));
  const names = sql.raw(used.map((c) => c.name).join(', '));
  const keyNames = spec.key.map((k) => columns.get(k)!.name);
  const target = sql.raw(keyNames.join(', '));
  const source = sql`jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(${recordset})`;

  const mergeRules = Object.entries(spec.merge ?? {}).filter(([k]) => used.some((c) => c.key === k));
  let conflict: SQL;
  if (mergeRules.length === 0) {
    conflict = sql`do nothing`;
  } else {
    const set = mergeRules.map(([k, rule]) => sql`${sql.raw(columns.get(k)!.name)} = ${mergeExpression(table, columns.get(k)!, rule, spec.insertDefaults?.[k])}`);
    const stored = sql.raw(mergeRules.map(([k]) => `${table}.${columns.get(k)!.name}`).join(', '));
    const merged = sql.join(mergeRules.map(([k, rule]) => mergeExpression(table, columns.get(k)!, rule, spec.insertDefaults?.[k])), sql`, `);
    const extra = [...(columns.has('updatedAt') ? [sql`updated_at = now()`] : []), ...(columns.has('lastBatchId') && used.some((c) => c.key === 'lastBatchId') ? [sql`last_batch_id = excluded.last_batch_id`] : [])];
    conflict = sql`do update set ${sql.join([...set, ...extra], sql`, `)} where (${stored}) is distinct from (${merged})`;
  }
  const selected = sql.raw(used.map((c) => {
    const fallback = spec.insertDefaults?.[c.key];
    return fallback ? `coalesce(${c.name}, ${fallback})` : c.name;
  }).join(', '));
  const written = await queryRows<{ inserted: boolean }>(db, sql`insert into ${sql.raw(table)} (${names})
    select ${selected} from ${source}
    on conflict (${target}) ${conflict}
    returning (xmax = 0) as inserted`);
  const inserted = written.filter((r) => r.inserted).length;
  if (spec.returnIds === false) {
    return { ids: [], inserted, updated: written.length - inserted, distinct: rows.length, keys };
  }

  const keyColumns = sql.raw(keyNames.map((n) => `t.${n}`).join(', '));
  const keyRecordset = sql.raw(keyNames.map((n) => `${n} ${used.find((c) => c.name === n)!.type}`).join(', '));
  const keyPayload = rows.map((row) => Object.fromEntries(spec.key.map((k) => [columns.get(k)!.name, row[k] ?? null])));
  const found = await queryRows<Record<string, unknown> & { id: number | string }>(db, sql`select t.id, ${keyColumns}
    from ${sql.raw(table)} t
    join jsonb_to_recordset(${JSON.stringify(keyPayload)}::jsonb) as k(${keyRecordset})
      on ${sql.raw(spec.key.map((k) => {
        // `=` where the column cannot be null, so the natural-key index serves the lookup.
        const c = columns.get(k)!;
        return c.notNull ? `t.${c.name} = k.${c.name}` : `t.${c.name} is not distinct from k.${c.name}`;
      }).join(' and '))}`);
  const idByKey = new Map(found.map((r) => [JSON.stringify(keyNames.map((n) => normalizeKeyValue(r[n]))), Number(r.id)]));
  const ids = input.map((row) => {
    const id = idByKey.get(JSON.stringify(spec.key.map((k) => normalizeKeyValue(row[k]))));
    if (id === undefined) throw new Error(`${table}: row ${keyOf(row, spec.key)} was written but not found again`);
    return id;
  });
  return { ids, inserted, updated: written.length - inserted, distinct: rows.length, keys };
}

/** Key values come back from the drivers as strings or numbers (bigint ids); compare them as text. */
function normalizeKeyValue(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}
