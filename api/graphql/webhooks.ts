import { sql } from 'drizzle-orm';
import { readWebhookSettings } from '../../schema/config.ts';
import { rows } from '../../schema/database.ts';
import { allowedRanges, checkWebhookUrl, newWebhookSecret, WEBHOOK_EVENTS, WebhookRefused } from '../../jobs/webhooks.ts';
import { refuse, type Context } from './context.ts';

// An organization's webhooks (jobs/webhooks.ts sends them): create, list with recent deliveries, delete.
// Any key bound to an organization manages that organization's webhooks and sees no other's: another
// organization's webhook answers exactly as one that does not exist.

/** Webhooks an organization may keep. */
const MAX_WEBHOOKS = 20;

type WebhookRow = { id: number; url: string; events: string[]; createdAt: Date };

function requireOrganization(context: Context): number {
  const { role, organizationId } = context.viewer;
  if (role === 'anonymous') refuse('webhooks need an API key bound to an organization', 'UNAUTHENTICATED');
  if (organizationId === null) refuse('webhooks belong to an organization: this key is bound to none', 'FORBIDDEN');
  return organizationId;
}

const webhookColumns = sql`id::float8 as id, url, events, created_at as "createdAt"`;

export const webhookResolvers = {
  Query: {
    async webhooks(_: unknown, __: unknown, context: Context) {
      const organizationId = requireOrganization(context);
      return rows<WebhookRow>(context.db, sql`select ${webhookColumns} from webhooks where organization_id = ${organizationId} order by id desc`);
    },
  },

  Mutation: {
    async createWebhook(_: unknown, args: { url: string; events: string[] }, context: Context) {
      const organizationId = requireOrganization(context);
      const events = [...new Set(args.events)];
      if (events.length === 0 || events.some((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e))) {
        refuse(`events: one or more of ${WEBHOOK_EVENTS.join(', ')}`, 'BAD_USER_INPUT');
      }
      try {
        await checkWebhookUrl(args.url, allowedRanges(readWebhookSettings().allow));
      } catch (error) {
        if (error instanceof WebhookRefused) refuse(error.message, 'BAD_USER_INPUT');
        throw error;
      }
      const secret = newWebhookSecret();
      const [created] = await rows<WebhookRow>(context.db, sql`insert into webhooks (organization_id, url, events, secret, created_by_key_id)
        select ${organizationId}, ${args.url}, ${`{${events.join(',')}}`}::text[], ${secret}, ${context.viewer.apiKeyId}
        where (select count(*) from webhooks where organization_id = ${organizationId}) < ${MAX_WEBHOOKS}
        returning ${webhookColumns}`);
      if (!created) refuse(`an organization keeps at most ${MAX_WEBHOOKS} webhooks: delete one first`, 'BAD_USER_INPUT');
      return { id: created.id, secret, webhook: created };
    },
    async deleteWebhook(_: unknown, args: { id: string }, context: Context) {
      const organizationId = requireOrganization(context);
      if (!/^\d{1,18}$/.test(args.id)) return false;
      const deleted = await rows<{ id: number }>(context.db, sql`delete from webhooks where id = ${args.id}::bigint and organization_id = ${organizationId} returning id`);
      return deleted.length > 0;
    },
  },

  Webhook: {
    async deliveries(parent: WebhookRow, args: { first: number }, context: Context) {
      const first = Math.max(0, Math.min(args.first ?? 20, 100));
      const found = await rows<Record<string, unknown> & { status: string }>(context.db, sql`select id::float8 as id, event, status, attempts,
          response_status as "responseStatus", last_error as "lastError", created_at as "createdAt", last_attempt_at as "lastAttemptAt",
          case when status = 'pending' then next_attempt_at end as "nextAttemptAt", delivered_at as "deliveredAt", body
        from webhook_deliveries where webhook_id = ${parent.id} order by id desc limit ${first}`);
      return found.map((d) => ({ ...d, status: d.status.toUpperCase() }));
    },
  },
};
