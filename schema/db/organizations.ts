import { sql } from 'drizzle-orm';
import { bigint, check, pgTable, primaryKey, text, timestamp, varchar } from 'drizzle-orm/pg-core';
import { apiKeyRole } from './enums.ts';

/** A government, registry operator, exchange or research group that publishes or reads data. */
export const organizations = pgTable('organizations', {
  id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  slug: text().notNull().unique(),
  name: text().notNull(),
  nameJa: text(),
  /** ISO 3166-1 alpha-2 of a government's own country, so its uploads can be matched to its Party. */
  country: varchar({ length: 2 }),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  check('organizations_slug_format', sql`${t.slug} ~ '^[a-z0-9][a-z0-9-]*$'`),
  check('organizations_country_format', sql`${t.country} ~ '^[A-Z]{2}$'`),
]);

/**
 * Article 6 Parties an organization may publish AEF submissions for, beyond its own country's (which it
 * always may): an admin grants them (a registry operator serving several governments). A Party's
 * submission can then never be taken by a publisher who does not speak for it.
 */
export const organizationParties = pgTable('organization_parties', {
  organizationId: bigint({ mode: 'number' }).notNull().references(() => organizations.id),
  /** ISO 3166-1 alpha-3, as the AEF writes Parties. */
  party: varchar({ length: 3 }).notNull(),
  grantedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.organizationId, t.party] }),
  check('organization_parties_party_format', sql`${t.party} ~ '^[A-Z]{3}$'`),
]);

/**
 * API keys. Only a SHA-256 hash of the key is stored; the prefix finds the row without revealing the key.
 * Publishers write for exactly one organization, so a publisher key without one is refused.
 */
export const apiKeys = pgTable('api_keys', {
  id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  organizationId: bigint({ mode: 'number' }).references(() => organizations.id),
  role: apiKeyRole().notNull(),
  name: text().notNull(),
  keyPrefix: text().notNull().unique(),
  keyHash: text().notNull().unique(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp({ withTimezone: true }),
  revokedAt: timestamp({ withTimezone: true }),
}, (t) => [
  check('api_keys_publisher_has_organization', sql`${t.role} <> 'publisher' or ${t.organizationId} is not null`),
  check('api_keys_hash_is_sha256', sql`${t.keyHash} ~ '^[0-9a-f]{64}$'`),
]);

export type Organization = typeof organizations.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;

/**
 * Where each writer's last write ended in the primary's write-ahead log (`pg_current_wal_lsn()` after it
 * committed), for read-your-writes with a read replica: a writer's reads go to the replica only once it
 * has replayed past this position. Written only when a replica is configured (`DATABASE_READ_URL`).
 */
export const writePositions = pgTable('write_positions', {
  /** `org:<id>` for an organization's keys, `key:<id>` for a key without one. */
  writer: text().primaryKey(),
  /** A `pg_lsn`, as text. */
  lsn: text().notNull(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
