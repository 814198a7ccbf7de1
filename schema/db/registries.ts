import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { registryKind, serialScheme } from './enums.ts';

/**
 * The registries Tally reads. The slug is the key every ledger row carries (`verra`, `gold-standard`,
 * `j-credit`…); rows are seeded at start-up from the registries the connectors declare (connectors/index.ts).
 */
export const registries = pgTable('registries', {
  id: text().primaryKey(),
  name: text().notNull(),
  nameJa: text().notNull(),
  kind: registryKind().notNull(),
  serialScheme: serialScheme().notNull(),
  url: text(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type Registry = typeof registries.$inferSelect;
