import { sql } from 'drizzle-orm';
import { bigint, boolean, check, customType, numeric, timestamp } from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';

// Column shapes repeated across tables, so that each is defined once.

/** Surrogate key: compact foreign keys for tables that reach millions of rows. */
export const id = () => bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity();

export const bigintRef = () => bigint({ mode: 'number' });

/** Tonnes of CO2e. Three decimals because some registries (Isometric) issue fractional credits, to the kilogram. */
export const tonnes = () => numeric({ precision: 20, scale: 3, mode: 'number' });

export const createdAt = () => timestamp({ withTimezone: true }).notNull().defaultNow();
export const updatedAt = () => timestamp({ withTimezone: true }).notNull().defaultNow();

/** PostgreSQL int8range: a closed serial interval, for overlap (&&) and containment (@>) under GiST. */
export const int8range = customType<{ data: string; driverData: string }>({
  dataType: () => 'int8range',
});

/**
 * Who published a record and whether only they may see it. Records pulled from public registries have
 * no owner; records a publisher uploads carry its organization, and may be private (a draft, or data
 * that is not public yet). A private record without an owner would be visible to no one, so it is refused.
 */
export const ownership = () => ({
  ownerOrganizationId: bigintRef().references((): AnyPgColumn => organizations.id),
  isPrivate: boolean().notNull().default(false),
});

export const ownershipCheck = (table: string, t: { isPrivate: AnyPgColumn; ownerOrganizationId: AnyPgColumn }) =>
  check(`${table}_private_has_owner`, sql`not ${t.isPrivate} or ${t.ownerOrganizationId} is not null`);
