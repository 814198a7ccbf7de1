import { eq } from 'drizzle-orm';
import { organizations } from '../schema/db/index.ts';
import type { Database } from '../schema/database.ts';

/**
 * The id of the organization `slug` names, for a command's `--organization`; undefined, once `command`
 * has said on stderr that there is none, when no organization has that slug.
 */
export async function organizationOf(db: Database, command: string, slug: string, hint = ''): Promise<number | undefined> {
  const [org] = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, slug));
  if (!org) console.error(`${command}: no organization "${slug}"${hint}`);
  return org?.id;
}
