import { GraphQLError } from 'graphql';
import type { Database } from '../../schema/database.ts';
import { visibleTo } from '../../schema/database.ts';
import type { Viewer } from '../auth.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import type { Locale } from '../../schema/taxonomy/index.ts';

// What every resolver is given: the database, who is asking, the locale labels are written in, and the
// request's batch loaders (one query per kind of child record per request, never one per parent).

export type Context = {
  /** Reads, with the caller's statement timeout: the read replica for a query when there is one. */
  db: Database;
  /** The primary, with the caller's statement timeout: a mutation's `db`. */
  primary: Database;
  /** Writes that may run long (an upload's batches), on the primary. */
  writer: Database;
  viewer: Viewer;
  locale: Locale;
  loaders: Loaders;
};

export function createContext(databases: { reads: Database; primary: Database; writer: Database }, viewer: Viewer, acceptLanguage: string | null | undefined): Context {
  const locale: Locale = /^ja\b/i.test(acceptLanguage ?? '') ? 'ja' : 'en';
  const { reads, primary, writer } = databases;
  return { db: reads, primary, writer, viewer, locale, loaders: createLoaders(reads, viewer) };
}

/** A root field's `locale` argument, when given, sets the locale of every label below it. */
export function useLocale(context: Context, locale: 'EN' | 'JA' | null | undefined): void {
  if (locale) context.locale = locale === 'JA' ? 'ja' : 'en';
}

/** The privacy filter for the asking organization over table or alias `alias`. */
export const visible = (context: Context, alias: string) => visibleTo(alias, context.viewer.organizationId);

/** A refusal the caller can act on, with a code clients can branch on. */
export function refuse(message: string, code: 'FORBIDDEN' | 'UNAUTHENTICATED' | 'BAD_USER_INPUT' | 'NOT_FOUND'): never {
  throw new GraphQLError(message, { extensions: { code } });
}

/** Publishers write for their organization; an admin bound to an organization may too. */
export function requireWriter(context: Context): number {
  const { role, organizationId } = context.viewer;
  if (role === 'anonymous') refuse('this needs an API key with the publisher role', 'UNAUTHENTICATED');
  if ((role !== 'publisher' && role !== 'admin') || organizationId === null) {
    refuse(`a ${role} key cannot write: this needs a publisher key bound to an organization`, 'FORBIDDEN');
  }
  return organizationId;
}

export function requireAdmin(context: Context): void {
  if (context.viewer.role === 'anonymous') refuse('this needs an admin API key', 'UNAUTHENTICATED');
  if (context.viewer.role !== 'admin') refuse(`a ${context.viewer.role} key cannot do this: it needs the admin role`, 'FORBIDDEN');
}
