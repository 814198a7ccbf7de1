import { ingestFiles } from './jobs/ingest-files.ts';
import { openDatabase, migrateDatabase } from './schema/database.ts';
const h = await openDatabase({}); await migrateDatabase(h, {});
const dir = '/work/shared/data/historical-samples/';
for (const f of ['verra/projects-2023-10.csv','verra/projects-2024-10.csv','verra/vcus-2023-12.csv','gold-standard/projects-2025-04.csv','gold-standard/projects-2026-06.csv','american-carbon-registry/retirements-2024-10.csv','american-carbon-registry/projects-2024-10.csv','isometric/retirements-2026-04.csv']) {
  const [o] = await ingestFiles(h.db, [dir + f], { check: false });
  const s = (o as any).summary;
  console.log(f, o!.accepted, o!.kind === 'ledger' ? (o as any).format : '', s ? `read ${s.rowsRead} rejected ${s.rowsRejected}` : '', (o as any).failure?.slice(0, 200) ?? '', s?.errors?.slice(0, 2).map((e: any) => e.message).join(' | ') ?? '');
}
