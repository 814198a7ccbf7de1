import { eq, sql, type SQL } from 'drizzle-orm';
import { readSerial, serialRegistries } from '../../connectors/serials.ts';
import { projects, unitBlocks } from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { msg, render } from '../../schema/messages/index.ts';
import { refuse, useLocale, visible, type Context } from './context.ts';

// Provenance (DESIGN §1, §5): a serial string in any registry's format, a single unit, or a bare range
// inside a number space, answered with every block and issuance that contains or overlaps it. Each
// reading is one probe of the GiST index on (number space, serial range).

const MAX_BLOCKS = 500;

type Reading = { registry: string | null; numberSpace: string | null; start: number; end: number };

function readingsOf(serial: string, numberSpace: string | null | undefined, registry: string | null | undefined): Reading[] {
  const parsed = readSerial(serial).map((r) => ({ registry: r.registry, numberSpace: r.range.numberSpace, start: r.range.start, end: r.range.end }));
  if (parsed.length > 0) return parsed;
  const bare = /^\s*(\d{1,16})\s*(?:(?:-|to)\s*(\d{1,16}))?\s*$/i.exec(serial);
  if (!bare) return [];
  const start = Number(bare[1]);
  const end = Number(bare[2] ?? bare[1]);
  if (!Number.isSafeInteger(end) || end < start) refuse(`serial: ${start}–${end} is not a range (the end comes before the start)`, 'BAD_USER_INPUT');
  return [{ registry: registry ?? null, numberSpace: numberSpace ?? null, start, end }];
}

/** Conditions on a table with (number_space, serial_range or serial_start/serial_end) for the readings. */
function overlapping(alias: string, readings: Reading[], rangeOf: (a: string, r: Reading) => SQL): SQL {
  return sql.join(readings.map((r) => {
    const space = r.numberSpace ? sql`${sql.raw(alias)}.number_space = ${r.numberSpace}`
      : r.registry ? sql`${sql.raw(alias)}.registry_id = ${r.registry}` : sql`true`;
    return sql`(${space} and ${rangeOf(alias, r)})`;
  }), sql` or `);
}

// The common lookup (one serial, read in one number space) as a prepared statement, built once: the
// blocks with their projects in one round trip, handed to the request's loaders, so that an exchange's
// check of a unit costs the database one query.
const blockStatements = new WeakMap<Database, ReturnType<typeof prepareBlocks>>();
function prepareBlocks(db: Database) {
  const p = sql.placeholder;
  const visibleTo = (t: typeof unitBlocks | typeof projects) => sql`(not ${t.isPrivate} or ${t.ownerOrganizationId} is not distinct from ${p('viewer')}::bigint)`;
  return db.select({ block: unitBlocks, project: projects }).from(unitBlocks)
    .innerJoin(projects, eq(projects.id, unitBlocks.projectId))
    .where(sql`((${unitBlocks.numberSpace} = ${p('space')} and ${unitBlocks.serialRange} && int8range(${p('start')}::bigint, ${p('end')}::bigint, '[]'))
      or ${unitBlocks.serialRaw} = ${p('raw')})
      and ${visibleTo(unitBlocks)} and ${visibleTo(projects)}`)
    .orderBy(sql`${unitBlocks.supersededInBatchId} nulls first`, unitBlocks.numberSpace, unitBlocks.serialStart, unitBlocks.id)
    .limit(MAX_BLOCKS)
    .prepare('tally_lookup_blocks');
}
function blocksInSpace(db: Database) {
  let statement = blockStatements.get(db);
  if (!statement) blockStatements.set(db, (statement = prepareBlocks(db)));
  return statement;
}

export const lookupResolvers = {
  Query: {
    async lookup(_: unknown, args: { serial: string; numberSpace?: string | null; registry?: string | null; locale?: 'EN' | 'JA' | null }, context: Context) {
      useLocale(context, args.locale);
      const serial = args.serial.trim();
      if (serial === '') refuse('serial: give a serial string, a unit number or a range', 'BAD_USER_INPUT');
      if (serial.length > 200) refuse('serial: longer than any registry serial (200 characters at most)', 'BAD_USER_INPUT');
      const readings = readingsOf(serial, args.numberSpace, args.registry);
      // Blocks and issuances are looked up only when the query asks for them (an exchange checking a
      // unit asks for blocks alone), each once.
      const once = <T>(load: () => Promise<T>) => {
        let result: Promise<T> | undefined;
        return () => (result ??= load());
      };
      const blocks = once(async () => {
        const [only] = readings;
        if (readings.length === 1 && only!.numberSpace) {
          const found = await blocksInSpace(context.db).execute({
            space: only!.numberSpace, start: only!.start, end: only!.end, raw: serial, viewer: context.viewer.organizationId,
          });
          for (const { block, project } of found) {
            context.loaders.block.prime(block.id, block);
            context.loaders.project.prime(project.id, project);
          }
          return found.map((r) => r.block);
        }
        const match = readings.length > 0
          ? sql`(${overlapping('b', readings, (a, r) => sql`${sql.raw(a)}.serial_range && int8range(${r.start}::bigint, ${r.end}::bigint, '[]')`)}) or b.serial_raw = ${serial}`
          : sql`b.serial_raw = ${serial}`;
        const ids = await rows<{ id: number }>(context.db, sql`select b.id::float8 as id from unit_blocks b
          where (${match}) and ${visible(context, 'b')}
          order by b.superseded_in_batch_id nulls first, b.number_space, b.serial_start, b.id limit ${MAX_BLOCKS}`);
        return (await context.loaders.block.loadMany(ids.map((r) => r.id))).filter((b) => b && !(b instanceof Error));
      });
      const issuances = once(async () => {
        const match = readings.length > 0
          ? sql`(${overlapping('i', readings, (a, r) => sql`${sql.raw(a)}.number_space is not null
              and int8range(${sql.raw(a)}.serial_start, ${sql.raw(a)}.serial_end, '[]') && int8range(${r.start}::bigint, ${r.end}::bigint, '[]')`)}) or i.serial_raw = ${serial}`
          : sql`i.serial_raw = ${serial}`;
        const ids = await rows<{ id: number }>(context.db, sql`select i.id::float8 as id from issuances i
          where (${match}) and ${visible(context, 'i')} order by i.number_space, i.serial_start, i.id limit ${MAX_BLOCKS}`);
        return (await context.loaders.issuance.loadMany(ids.map((r) => r.id))).filter((i) => i && !(i instanceof Error));
      });
      return {
        query: serial,
        readings: readings.map((r) => ({ registry: r.registry, numberSpace: r.numberSpace, start: r.start, end: r.end })),
        blocks,
        issuances,
        async message() {
          const [b, i] = await Promise.all([blocks(), issuances()]);
          if (b.length > 0 || i.length > 0) return null;
          return render(context.locale, readings.length === 0
            ? msg('lookup.unreadable', { serial, registries: { list: serialRegistries() } })
            : msg('lookup.notFound', { ranges: { join: 'or', list: readings.map((r) => {
              const space = r.numberSpace ?? r.registry;
              return msg(space ? 'lookup.rangeIn' : 'lookup.range', { start: String(r.start), end: String(r.end), space });
            }) } }));
        },
      };
    },
  },
};
