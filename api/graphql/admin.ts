import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { batches, organizationParties, organizations } from '../../schema/db/index.ts';
import { partiesOf } from '../../jobs/article6/aef-upload.ts';
import { rows } from '../../schema/database.ts';
import { vocabularies, type VocabularyName } from '../../schema/taxonomy/index.ts';
import { createApiKey, revokeApiKey } from '../auth.ts';
import { refuse, requireAdmin, useLocale, visible, type Context } from './context.ts';
import { decodeCursor, encodeCursor, pageSize } from './filters.ts';
import type { BatchRow, RegistryRow } from './loaders.ts';
import { term } from './terms.ts';
import { renderRowError, type StoredRowError } from '../../schema/messages/row-errors.ts';

// Who is asking, the registries with their last sync, batch history, the taxonomy, and the admin's
// organizations and keys.

type RowErrorJson = StoredRowError;

export const adminResolvers = {
  Query: {
    viewer: (_: unknown, __: unknown, c: Context) => c.viewer,
    async registries(_: unknown, args: { locale?: 'EN' | 'JA' | null }, c: Context) {
      useLocale(c, args.locale);
      return c.db.query.registries.findMany({ orderBy: (r, { asc }) => [asc(r.id)] });
    },
    async batches(_: unknown, args: { registry?: string | null; kind?: 'SYNC' | 'UPLOAD' | null; first: number; after?: string | null }, c: Context) {
      const first = pageSize(args.first);
      const conditions = [visible(c, 'batches')];
      if (args.registry) conditions.push(eq(batches.registryId, args.registry));
      if (args.kind) conditions.push(eq(batches.kind, args.kind === 'SYNC' ? 'sync' : 'upload'));
      if (args.after) conditions.push(lt(batches.id, decodeCursor(args.after)[1]));
      const found = await c.db.select().from(batches).where(and(...conditions)).orderBy(desc(batches.id)).limit(first + 1);
      const page = found.slice(0, first);
      return { nodes: page, pageInfo: { hasNextPage: found.length > first, endCursor: page.length ? encodeCursor(null, page.at(-1)!.id) : null } };
    },
    batch: (_: unknown, args: { id: string }, c: Context) => c.loaders.batch.load(Number(args.id)),
    taxonomy(_: unknown, args: { locale?: 'EN' | 'JA' | null }, c: Context) {
      useLocale(c, args.locale);
      return Object.entries(vocabularies).map(([name, v]) => ({
        name, label: v.label[c.locale], source: v.source, terms: v.terms.map((t) => term(c, name as VocabularyName, t.code)),
      }));
    },
    async organizations(_: unknown, __: unknown, c: Context) {
      if (c.viewer.role === 'admin') return c.db.select().from(organizations).orderBy(organizations.slug);
      if (c.viewer.organizationId === null) return [];
      return c.db.select().from(organizations).where(eq(organizations.id, c.viewer.organizationId));
    },
  },

  Mutation: {
    async createOrganization(_: unknown, args: { slug: string; name: string; nameJa?: string | null; country?: string | null }, c: Context) {
      requireAdmin(c);
      if (!/^[a-z0-9][a-z0-9-]*$/.test(args.slug)) refuse('slug: lower-case letters, digits and hyphens, starting with a letter or digit', 'BAD_USER_INPUT');
      if (args.country && !/^[A-Z]{2}$/.test(args.country)) refuse('country: an ISO 3166-1 alpha-2 code such as JP', 'BAD_USER_INPUT');
      const [existing] = await c.db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, args.slug));
      if (existing) refuse(`an organization "${args.slug}" exists already`, 'BAD_USER_INPUT');
      const [created] = await c.db.insert(organizations).values({ slug: args.slug, name: args.name, nameJa: args.nameJa ?? null, country: args.country ?? null }).returning();
      return created;
    },
    async createApiKey(_: unknown, args: { name: string; role: 'ADMIN' | 'PUBLISHER' | 'READER'; organization?: string | null }, c: Context) {
      requireAdmin(c);
      let organization: typeof organizations.$inferSelect | undefined;
      if (args.organization) {
        [organization] = await c.db.select().from(organizations).where(eq(organizations.slug, args.organization));
        if (!organization) refuse(`no organization "${args.organization}"`, 'BAD_USER_INPUT');
      }
      const role = args.role.toLowerCase() as 'admin' | 'publisher' | 'reader';
      if (role === 'publisher' && !organization) refuse('a publisher key needs an organization: it writes for that organization', 'BAD_USER_INPUT');
      const created = await createApiKey(c.db, { name: args.name, role, organizationId: organization?.id ?? null });
      return { id: created.id, key: created.key, role: args.role, organization: organization ?? null };
    },
    async grantParty(_: unknown, args: { organization: string; party: string }, c: Context) {
      requireAdmin(c);
      const party = args.party.toUpperCase();
      if (!/^[A-Z]{3}$/.test(party)) refuse('party: an ISO 3166-1 alpha-3 code such as VUT', 'BAD_USER_INPUT');
      const [organization] = await c.writer.select().from(organizations).where(eq(organizations.slug, args.organization));
      if (!organization) refuse(`no organization "${args.organization}"`, 'BAD_USER_INPUT');
      await c.writer.insert(organizationParties).values({ organizationId: organization.id, party }).onConflictDoNothing();
      return organization;
    },
    async revokeApiKey(_: unknown, args: { id: string }, c: Context) {
      requireAdmin(c);
      return revokeApiKey(c.writer, Number(args.id));
    },
  },

  Organization: {
    parties: (o: typeof organizations.$inferSelect, _: unknown, c: Context) => partiesOf(c.db, o.id),
  },

  Viewer: {
    async organization(v: Context['viewer'], _: unknown, c: Context) {
      if (v.organizationId === null) return null;
      const [found] = await c.db.select().from(organizations).where(eq(organizations.id, v.organizationId));
      return found ?? null;
    },
  },

  Registry: {
    kind: (r: RegistryRow, _: unknown, c: Context) => term(c, 'registryKind', r.kind),
    serialScheme: (r: RegistryRow, _: unknown, c: Context) => term(c, 'serialScheme', r.serialScheme),
    name: (r: RegistryRow, _: unknown, c: Context) => (c.locale === 'ja' ? r.nameJa : r.name),
    async projectCount(r: RegistryRow, _: unknown, c: Context) {
      const counts = await registryCounts(c);
      return counts.get(r.id) ?? 0;
    },
    lastBatch: (r: RegistryRow, _: unknown, c: Context) => lastBatch(c, r.id, 'any'),
    lastSync: (r: RegistryRow, _: unknown, c: Context) => lastBatch(c, r.id, 'sync'),
    lastSuccess: (r: RegistryRow, _: unknown, c: Context) => lastBatch(c, r.id, 'committed'),
  },

  // Row errors, of a batch or of an upload, in the caller's language (schema/messages/row-errors.ts).
  RowError: {
    locator: (e: StoredRowError, _: unknown, c: Context) => renderRowError(c.locale, e).locator,
    message: (e: StoredRowError, _: unknown, c: Context) => renderRowError(c.locale, e).message,
  },

  Batch: {
    kind: (b: BatchRow) => b.kind.toUpperCase(),
    registry: (b: BatchRow, _: unknown, c: Context) => (b.registryId ? c.loaders.registry.load(b.registryId) : null),
    errors: (b: BatchRow) => (b.errors as RowErrorJson[]).map((e) => ({
      ...e, locator: e.locator ?? (e.line !== undefined ? `line ${e.line}` : ''), field: e.field ?? null, code: e.code ?? 'error', message: e.message ?? '',
    })),
    private: (b: BatchRow) => b.isPrivate,
    generations: (b: BatchRow) => (b.details as { generations?: string[] }).generations ?? [],
    unreadColumns: (b: BatchRow) => (b.details as { unreadColumns?: string[] }).unreadColumns ?? [],
  },
};

// Per-request caches for the registry list: every registry row asks, one query answers.
const countsCache = new WeakMap<Context, Promise<Map<string, number>>>();
function registryCounts(c: Context): Promise<Map<string, number>> {
  let cached = countsCache.get(c);
  if (!cached) {
    cached = rows<{ registry: string; n: number }>(c.db, sql`select p.registry_id as registry, count(*)::int as n from projects p
      where ${visible(c, 'p')} group by 1`).then((r) => new Map(r.map((x) => [x.registry, x.n])));
    countsCache.set(c, cached);
  }
  return cached;
}

type Last = { any: number | null; sync: number | null; committed: number | null };
const lastCache = new WeakMap<Context, Promise<Map<string, Last>>>();
async function lastBatch(c: Context, registry: string, which: keyof Last) {
  let cached = lastCache.get(c);
  if (!cached) {
    cached = rows<Last & { registry: string }>(c.db, sql`select b.registry_id as registry, max(b.id)::float8 as any,
        (max(b.id) filter (where b.kind = 'sync'))::float8 as sync, (max(b.id) filter (where b.kind = 'sync' and b.status = 'committed'))::float8 as committed
      from batches b where b.registry_id is not null and ${visible(c, 'b')} group by 1`)
      .then((r) => new Map(r.map(({ registry, ...last }) => [registry, last])));
    lastCache.set(c, cached);
  }
  const id = (await cached).get(registry)?.[which] ?? undefined;
  return id === undefined ? null : c.loaders.batch.load(id);
}
