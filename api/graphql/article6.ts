import { and, asc, eq, getTableName, inArray, sql } from 'drizzle-orm';
import { aefActions, aefAuthorizations, aefHoldings, aefSubmissions } from '../../schema/db/index.ts';
import { exportAef, AefNotFound } from '../../jobs/article6/aef-export.ts';
import { consistencyChecks } from '../../jobs/article6/consistency.ts';
import { partySummary } from '../../jobs/article6/summary.ts';
import { refuse, useLocale, visible, type Context } from './context.ts';
import { loadFindings } from './findings.ts';
import { rows } from '../../schema/database.ts';

// Article 6 (DESIGN §1, governments): a Party's position by year, its open gaps, its AEF rows and the
// pre-submission checks, all over the rows the caller may see (public ones and its organization's own).

const GAP_KINDS = ['ca-unreported-first-transfer', 'ca-quantity-mismatch', 'ca-range-mismatch', 'ca-mirror-missing',
  'ca-unauthorized-use', 'ca-status-overdue', 'contribution-claim-overlap'];

type Party = { party: string };

const own = (context: Context, table: Parameters<typeof getTableName>[0]) => visible(context, getTableName(table));

export const article6Resolvers = {
  Query: {
    article6(_: unknown, args: { party: string }) {
      const party = args.party.trim().toUpperCase();
      if (!/^[A-Z]{3}$/.test(party)) refuse(`party: expected an ISO 3166-1 alpha-3 code such as VUT or JPN, got "${args.party}"`, 'BAD_USER_INPUT');
      return { party };
    },
  },
  Article6Party: {
    summary: ({ party }: Party, _: unknown, c: Context) => partySummary(c.db, party, c.viewer.organizationId),
    async gaps({ party }: Party, args: { locale?: 'EN' | 'JA' | null }, c: Context) {
      useLocale(c, args.locale);
      const found = await rows<{ id: number }>(c.db, sql`select f.id::float8 as id from findings f
        where f.status in ('open', 'acknowledged') and f.kind::text in (${sql.join(GAP_KINDS.map((k) => sql`${k}`), sql`, `)})
          and f.evidence->>'party' = ${party} and ${visible(c, 'f')}
        order by f.tonnes_at_risk desc, f.id`);
      return loadFindings(c, found.map((r) => r.id));
    },
    authorizations: ({ party }: Party, _: unknown, c: Context) => c.db.select().from(aefAuthorizations)
      .where(and(eq(aefAuthorizations.party, party), own(c, aefAuthorizations)))
      .orderBy(asc(aefAuthorizations.authorizationId), asc(aefAuthorizations.version)),
    async actions({ party }: Party, args: { reportYear?: number | null }, c: Context) {
      const submissions = await submissionIds(c, party, args.reportYear);
      return c.db.select().from(aefActions)
        .where(and(eq(aefActions.party, party), own(c, aefActions), submissions ? inArray(aefActions.submissionId, submissions) : undefined))
        .orderBy(asc(aefActions.actionDate), asc(aefActions.id));
    },
    async holdings({ party }: Party, args: { reportYear?: number | null }, c: Context) {
      const submissions = await submissionIds(c, party, args.reportYear);
      return c.db.select().from(aefHoldings)
        .where(and(eq(aefHoldings.party, party), own(c, aefHoldings), submissions ? inArray(aefHoldings.submissionId, submissions) : undefined))
        .orderBy(asc(aefHoldings.snapshotYear), asc(aefHoldings.id));
    },
    consistency: ({ party }: Party, args: { reportYear?: number | null }, c: Context) =>
      consistencyChecks(c.db, party, { reportYear: args.reportYear ?? undefined, viewer: c.viewer.organizationId, locale: c.locale }),
    async aef({ party }: Party, args: { reportYear: number }, c: Context) {
      try {
        return await exportAef(c.db, party, args.reportYear, c.viewer.organizationId);
      } catch (error) {
        if (error instanceof AefNotFound) return null;
        throw error;
      }
    },
  },
  Aef2Authorization: { private: (r: { isPrivate: boolean }) => r.isPrivate },
  AefAction: { quantity: (r: { quantityTco2: number }) => r.quantityTco2, private: (r: { isPrivate: boolean }) => r.isPrivate },
  AefHolding: { quantity: (r: { quantityTco2: number }) => r.quantityTco2, private: (r: { isPrivate: boolean }) => r.isPrivate },
};

/** The visible submissions of a Party for one reporting year (undefined: every year). */
async function submissionIds(c: Context, party: string, reportYear: number | null | undefined): Promise<number[] | undefined> {
  if (reportYear == null) return undefined;
  const found = await c.db.select({ id: aefSubmissions.id }).from(aefSubmissions)
    .where(and(eq(aefSubmissions.party, party), eq(aefSubmissions.reportYear, reportYear), own(c, aefSubmissions)));
  return found.length ? found.map((s) => s.id) : [-1];
}
