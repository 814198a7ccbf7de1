import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { createApiKey, revokeApiKey, type Role } from '../api/auth.ts';
import { apiKeys, organizationParties, organizations } from '../schema/db/index.ts';
import type { Database } from '../schema/database.ts';
import { partiesOf } from '../jobs/article6/aef-upload.ts';
import { organizationOf } from './organization.ts';

// `tally org add` and `tally key create|list|revoke`: how the first admin key, and any key, comes to
// exist. The API's admin mutations do the same once an admin key exists.

export const orgUsage = `usage: tally org add <slug> --name <name> [--name-ja <name>] [--country <ISO alpha-2>]
       tally org list
       tally org grant <slug> --party <ISO alpha-3>

An organization publishes Article 6 (AEF) submissions for its own country's Party; grant lets it
publish for another one too (a registry operator serving several governments).`;

export const keyUsage = `usage: tally key create --role admin|publisher|reader [--organization <slug>] [--name <label>]
       tally key list
       tally key revoke <id>

A publisher key writes for its organization; a reader key with an organization also reads that
organization's private records. The key is printed once; Tally keeps only its hash.`;

export async function orgCommand(db: Database, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    name: { type: 'string' }, 'name-ja': { type: 'string' }, country: { type: 'string' }, party: { type: 'string' },
  } });
  const [action, slug] = positionals;
  if (action === 'list') {
    for (const o of await db.select().from(organizations).orderBy(organizations.slug)) {
      const parties = await partiesOf(db, o.id);
      console.log(`${o.slug}\t${o.name}${o.country ? `\t${o.country}` : ''}${parties.length ? `\tpublishes for ${parties.join(', ')}` : ''}`);
    }
    return 0;
  }
  if (action === 'grant') {
    const party = values.party?.toUpperCase();
    if (!slug || !party || !/^[A-Z]{3}$/.test(party)) {
      console.error(orgUsage);
      return 2;
    }
    const org = await organizationOf(db, 'tally org grant', slug);
    if (org === undefined) return 1;
    await db.insert(organizationParties).values({ organizationId: org, party }).onConflictDoNothing();
    console.log(`${slug} publishes for ${(await partiesOf(db, org)).join(', ')}`);
    return 0;
  }
  if (action !== 'add' || !slug || !values.name) {
    console.error(orgUsage);
    return 2;
  }
  if (!/^[a-z0-9][a-z0-9-]*$/.test(slug)) {
    console.error('tally org add: the slug takes lower-case letters, digits and hyphens');
    return 2;
  }
  if (values.country && !/^[A-Z]{2}$/.test(values.country)) {
    console.error('tally org add: --country is an ISO 3166-1 alpha-2 code such as JP');
    return 2;
  }
  const [existing] = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, slug));
  if (existing) {
    console.error(`tally org add: "${slug}" exists already`);
    return 1;
  }
  await db.insert(organizations).values({ slug, name: values.name, nameJa: values['name-ja'] ?? null, country: values.country ?? null });
  console.log(`organization ${slug} added`);
  return 0;
}

export async function keyCommand(db: Database, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    role: { type: 'string' }, organization: { type: 'string' }, name: { type: 'string' },
  } });
  const [action, id] = positionals;
  if (action === 'list') {
    const keys = await db.select({ key: apiKeys, organization: organizations.slug }).from(apiKeys)
      .leftJoin(organizations, eq(organizations.id, apiKeys.organizationId)).orderBy(apiKeys.id);
    for (const { key, organization } of keys) {
      console.log(`${key.id}\t${key.keyPrefix}…\t${key.role}\t${organization ?? '-'}\t${key.name}${key.revokedAt ? '\trevoked' : ''}`);
    }
    return 0;
  }
  if (action === 'revoke' && id && /^\d+$/.test(id)) {
    const revoked = await revokeApiKey(db, Number(id));
    console.log(revoked ? `key ${id} revoked` : `no active key ${id}`);
    return revoked ? 0 : 1;
  }
  const roles: Role[] = ['admin', 'publisher', 'reader'];
  if (action !== 'create' || !roles.includes(values.role as Role)) {
    console.error(keyUsage);
    return 2;
  }
  let organizationId: number | null = null;
  if (values.organization) {
    const org = await organizationOf(db, 'tally key create', values.organization, ' (add it with tally org add)');
    if (org === undefined) return 2;
    organizationId = org;
  }
  if (values.role === 'publisher' && organizationId === null) {
    console.error('tally key create: a publisher key needs --organization: it writes for that organization');
    return 2;
  }
  const created = await createApiKey(db, { name: values.name ?? `${values.role} key`, role: values.role as Exclude<Role, 'anonymous'>, organizationId });
  console.log(created.key);
  console.error(`key ${created.id} created (${values.role}${values.organization ? ` for ${values.organization}` : ''}); send it as "Authorization: Bearer <key>". It is not shown again.`);
  return 0;
}
