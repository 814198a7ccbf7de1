import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { bigintRef, id } from './columns.ts';
import { apiKeys, organizations } from './organizations.ts';

/**
 * Where an organization wants to be told of events (jobs/webhooks.ts). The secret signs every delivery
 * (HMAC-SHA256 of the body); it is shown once, when the webhook is created, and kept to sign with.
 */
export const webhooks = pgTable('webhooks', {
  id: id(),
  organizationId: bigint({ mode: 'number' }).notNull().references(() => organizations.id),
  url: text().notNull(),
  /** WebhookEvent values: FINDING_OPENED, FINDING_RESOLVED, SOURCE_STALE, BATCH_COMMITTED. */
  events: text().array().notNull(),
  secret: text().notNull(),
  createdByKeyId: bigintRef().references(() => apiKeys.id),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  check('webhooks_url_is_http', sql`${t.url} ~ '^https?://'`),
  check('webhooks_has_events', sql`cardinality(${t.events}) > 0`),
  index('webhooks_organization').on(t.organizationId),
]);

/**
 * The durable queue of deliveries: written in the transaction that makes the event (a batch's commit,
 * a check's findings), so an event is queued exactly when it happened, and sent by whichever process
 * claims it (`locked_until` is the claim's lease; a process that dies mid-delivery leaves it to expire).
 * `body` is the exact JSON sent and signed, so every retry sends the same bytes.
 */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: id(),
  webhookId: bigintRef().notNull().references(() => webhooks.id, { onDelete: 'cascade' }),
  event: text().notNull(),
  /** What the event is about (`finding-change:<id>`, `batch:<id>`, `stale:<registry>:<batch>`): one delivery per webhook and subject. */
  subject: text().notNull(),
  body: text().notNull(),
  /** pending, delivered or failed (gave up after the last attempt). */
  status: text().notNull().default('pending'),
  attempts: integer().notNull().default(0),
  nextAttemptAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  lockedUntil: timestamp({ withTimezone: true }),
  lastAttemptAt: timestamp({ withTimezone: true }),
  /** The receiver's HTTP status at the last attempt, or null when it could not be reached. */
  responseStatus: integer(),
  lastError: text(),
  deliveredAt: timestamp({ withTimezone: true }),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  check('webhook_deliveries_status', sql`${t.status} in ('pending', 'delivered', 'failed')`),
  unique('webhook_deliveries_once').on(t.webhookId, t.subject),
  index('webhook_deliveries_due').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
  index('webhook_deliveries_webhook').on(t.webhookId, t.id),
]);

export type Webhook = typeof webhooks.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
