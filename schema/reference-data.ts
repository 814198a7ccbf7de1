import { sql } from 'drizzle-orm';
import { registries as registryManifests } from '../connectors/index.ts';
import type { Database } from './database.ts';
import { registries } from './db/index.ts';

type RegistryRow = typeof registries.$inferInsert;

/**
 * Rows every ledger needs before the first ingest: the registries that foreign keys point at, as the
 * connectors declare them. An upsert that writes only what differs, so a restart changes nothing.
 */
export async function seedReferenceData(db: Database): Promise<void> {
  const rowsToSeed: RegistryRow[] = registryManifests().map((r) => ({ id: r.id, name: r.name, nameJa: r.nameJa, kind: r.kind, serialScheme: r.serialScheme, url: r.url }));
  await db
    .insert(registries)
    .values(rowsToSeed)
    .onConflictDoUpdate({
      target: registries.id,
      set: {
        name: sql`excluded.name`,
        nameJa: sql`excluded.name_ja`,
        kind: sql`excluded.kind`,
        serialScheme: sql`excluded.serial_scheme`,
        url: sql`excluded.url`,
      },
      setWhere: sql`(registries.name, registries.name_ja, registries.kind, registries.serial_scheme, registries.url)
        is distinct from (excluded.name, excluded.name_ja, excluded.kind, excluded.serial_scheme, excluded.url)`,
    });
}
