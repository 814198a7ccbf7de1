import type { CanonicalInput } from '../../schema/canonical.ts';
import type { Mapped, RowError } from '../types.ts';
import { reader } from './row.ts';
import { isRecord } from './values.ts';

// Reading a JSON entity from a registry API as file mode reads a row (row.ts): the same readers, the
// same messages, with each field named by its path in the entity (`project.sustaincert_id`,
// `bundles[0].volume`), so a message points at what the API sent.

type Entity = Record<string, unknown>;

export type EntityReaderOptions = {
  /** Slashed dates are day-first (`30/07/2026`). */
  dayFirst?: boolean;
  /**
   * How the source writes text, where it has its own conventions (a "no value" placeholder such as
   * `TBC`, an escape): applied to every string before it is read; undefined reads as absent.
   */
  decode?: (value: string) => string | undefined;
};

/**
 * The value at a field: a key of the entity (`credit_batch_size_total.credits` in a record saved from
 * a flattened export), else a path through nested objects and lists (`project.id`, `bundles[0].volume`).
 */
function valueAt(entity: Entity, path: string): unknown {
  if (Object.hasOwn(entity, path)) return entity[path];
  let value: unknown = entity;
  for (const key of path.match(/[^.[\]]+/g) ?? []) {
    if (Array.isArray(value) && /^\d+$/.test(key)) value = value[Number(key)];
    else if (isRecord(value)) value = value[key];
    else return undefined;
  }
  return value;
}

const absent = (value: unknown) => value === undefined || value === null || value === '';

/** A JSON value as a message quotes it, cut short. */
const quote = (value: unknown) => {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}…` : json;
};

/**
 * Reads the fields of one API entity and collects what is wrong with them, as `rowReader` does for a
 * row: numbers come as JSON numbers or numeric strings (`"1,454,054"`), booleans as true/false or
 * their words, and null or an empty string is an absent value. Errors name the field's path:
 * `credits id 595379: project.sustaincert_id: is empty`.
 */
export function entityReader(entity: Entity, locator: string, options: EntityReaderOptions = {}) {
  const { decode } = options;
  const get = (path: string) => {
    const value = valueAt(entity, path);
    return decode && typeof value === 'string' ? decode(value) : value;
  };
  const r = reader(get, locator, options);
  return {
    ...r,
    /** A nested object; undefined when absent, an error when the field holds something else. */
    record(path: string): Entity | undefined {
      const value = valueAt(entity, path);
      if (absent(value)) return undefined;
      if (isRecord(value)) return value;
      r.fail(path, 'not-an-object', `${quote(value)} is not an object`);
      return undefined;
    },
    /**
     * A list of objects (an entity's `bundles`, `credit_batches`); empty when absent. A field that is
     * not a list, or a list holding anything but objects, is an error and reads as empty, so the
     * indices of what is read are the entity's own (`bundles[2]` is the third).
     */
    list(path: string): Entity[] {
      const value = valueAt(entity, path);
      if (absent(value)) return [];
      if (!Array.isArray(value)) {
        r.fail(path, 'not-a-list', `${quote(value)} is not a list`);
        return [];
      }
      const other = value.findIndex((item) => !isRecord(item));
      if (other >= 0) {
        r.fail(`${path}[${other}]`, 'not-an-object', `${quote(value[other])} is not an object`);
        return [];
      }
      return value as Entity[];
    },
    /** A list of texts (`["1 - No Poverty", "13 - Climate Action"]`), or one text as a list of one; empty when absent. */
    texts(path: string): string[] {
      const value = valueAt(entity, path);
      const paths = Array.isArray(value) ? value.map((_, i) => `${path}[${i}]`) : [path];
      return paths.map((p) => r.text(p)).filter((text): text is string => text !== undefined);
    },
  };
}

export type EntityReader = ReturnType<typeof entityReader>;

/** A mapper's answer once it has read an entity: its records, or none and the errors when reading met any. */
export const mapped = (r: { errors: RowError[] }, records: CanonicalInput[]): Mapped =>
  (r.errors.length > 0 ? { records: [], errors: r.errors } : { records, errors: [] });
