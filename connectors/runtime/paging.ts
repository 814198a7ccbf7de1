// Paging and reconciliation shared by the API connectors.
//
// Registries change their transport without notice and fail quietly: Platts ignores filters it
// does not understand, clamps `start` at 10,000 and answers a wrong `standardid` with zero rows;
// Gold Standard clamps `size` to 150; GreenTrace clamps `max` at 2,000. So a pull keeps the total
// the registry reports for the query and, once the stream is drained, compares it with the number
// of records received (`reconcile`). A mismatch means the pull is incomplete and must not be stored.

/**
 * Records from a paged endpoint, page by page, plus what the registry said the total is.
 * Iterate it once; `reported()` is the first total any page carried (undefined if none did).
 */
export type PagedStream<T> = AsyncIterable<T> & {
  /** The total the registry reported for this query, as first seen. */
  reported(): number | undefined;
  /** Records yielded so far. */
  received(): number;
};

export type OffsetPage<T> = { items: T[]; total?: number };
export type CursorPage<T> = { items: T[]; next?: string | null; total?: number };

/**
 * Offset/limit paging (Platts `start`/`limit`, GreenTrace `offset`/`max`; page-number APIs such as
 * Gold Standard's compute `page = offset / limit + 1`).
 *
 * Stops on an empty page, on a page shorter than `limit`, or once `offset` reaches the reported
 * total. A short page is taken as the end, so `limit` must not exceed what the registry actually
 * serves per page (see the clamps above); if it does, `reconcile` catches the shortfall.
 */
export function pageByOffset<T>(
  fetchPage: (offset: number, limit: number) => Promise<OffsetPage<T>>,
  options: { limit: number; start?: number },
): PagedStream<T> {
  const { limit, start = 0 } = options;
  if (!Number.isInteger(limit) || limit <= 0) throw new RangeError(`pageByOffset: limit must be a positive integer, got ${limit}`);
  let reported: number | undefined;
  let received = 0;

  async function* pages(): AsyncGenerator<T> {
    for (let offset = start; ; offset += limit) {
      if (reported !== undefined && offset >= reported) return;
      const page = await fetchPage(offset, limit);
      if (reported === undefined && page.total !== undefined) reported = page.total;
      for (const item of page.items) {
        received++;
        yield item;
      }
      if (page.items.length < limit) return;
    }
  }

  return { [Symbol.asyncIterator]: pages, reported: () => reported, received: () => received };
}

/**
 * Cursor paging (Relay `after`/`page_info`, Bubble `cursor`/`remaining`). Stops when a page has no
 * `next` cursor or no items; a cursor that comes back a second time is an error, not an endless loop.
 */
export function pageByCursor<T>(fetchPage: (cursor: string | undefined) => Promise<CursorPage<T>>): PagedStream<T> {
  let reported: number | undefined;
  let received = 0;

  async function* pages(): AsyncGenerator<T> {
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (;;) {
      const page = await fetchPage(cursor);
      if (reported === undefined && page.total !== undefined) reported = page.total;
      for (const item of page.items) {
        received++;
        yield item;
      }
      const next = page.next;
      if (next === undefined || next === null || next === '' || page.items.length === 0) return;
      if (seen.has(next)) {
        throw new Error(`pageByCursor: the registry returned cursor ${JSON.stringify(next)} twice; stopping instead of looping (${received} records so far)`);
      }
      seen.add(next);
      cursor = next;
    }
  }

  return { [Symbol.asyncIterator]: pages, reported: () => reported, received: () => received };
}

export class ReconciliationError extends Error {
  override readonly name = 'ReconciliationError';
  readonly code = 'count-mismatch';
  readonly source: string;
  readonly stream: string;
  readonly received: number;
  readonly reported: number;
  /** The registry's name for its total (`totalEntities`, `X-Total-Count`, `totalCount`). */
  readonly field: string;

  constructor(init: { source: string; stream: string; received: number; reported: number; field: string }) {
    super(
      `${init.source} ${init.stream}: received ${formatCount(init.received)} records but the registry reports ` +
        `${formatCount(init.reported)} (${init.field}); the pull is incomplete and nothing was stored`,
    );
    this.source = init.source;
    this.stream = init.stream;
    this.received = init.received;
    this.reported = init.reported;
    this.field = init.field;
  }
}

/**
 * Throws when the number of records received differs from the registry's own count. A no-op when
 * the registry reported no count (Puro, some HTML reports): there is nothing to check against.
 */
export function reconcile(source: string, stream: string, received: number, reported: number | undefined, field: string): void {
  if (reported === undefined || received === reported) return;
  throw new ReconciliationError({ source, stream, received, reported, field });
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
