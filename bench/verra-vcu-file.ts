import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

// A synthetic VCU export in Verra's column layout (connectors/verra/map-vcu-export.ts reads it like the
// real one): projects with yearly issuance batches, each batch cut into blocks, some retired. Serials
// follow Verra's format and run on registry-wide, so every block is valid and none overlap.

export const VCU_HEADER = 'Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details';

const COUNTRIES = [['India', 'IN'], ['China', 'CN'], ['Brazil', 'BR'], ['Kenya', 'KE'], ['Peru', 'PE'], ['Indonesia', 'ID']] as const;
const METHODS = ['ACM0002', 'VM0007', 'AMS-I.D.', 'VMR0006', 'VM0042'];

export type SyntheticBlock = {
  issuedOn: string; vintageStart: string; vintageEnd: string; projectId: number; name: string; country: string;
  methodology: string; total: number; quantity: number; serial: string; serialStart: number; serialEnd: number; retiredOn: string | null;
};

/** Blocks in a fixed, reproducible order: `blocks` of them over `blocks / 200` projects. */
export function* syntheticBlocks(blocks: number): Generator<SyntheticBlock> {
  const blocksPerBatch = 20;
  const batchesPerProject = 10;
  let serial = 100_000_000;
  let batch = 10_000;
  let made = 0;
  for (let p = 0; made < blocks; p += 1) {
    const projectId = 10_000 + p;
    const [country, iso] = COUNTRIES[p % COUNTRIES.length]!;
    const methodology = METHODS[p % METHODS.length]!;
    for (let b = 0; b < batchesPerProject && made < blocks; b += 1, batch += 1) {
      const year = 2010 + b;
      const sizes = Array.from({ length: blocksPerBatch }, (_, i) => 100 + ((p * 31 + b * 7 + i * 13) % 900));
      const total = sizes.reduce((a, c) => a + c, 0);
      for (let i = 0; i < blocksPerBatch && made < blocks; i += 1, made += 1) {
        const start = serial;
        const end = serial + sizes[i]! - 1;
        serial = end + 1;
        yield {
          issuedOn: `${year + 1}-03-${String(1 + (b % 28)).padStart(2, '0')}`,
          vintageStart: `${year}-01-01`,
          vintageEnd: `${year}-12-31`,
          projectId,
          name: `Synthetic project ${projectId}`,
          country,
          methodology,
          total,
          quantity: sizes[i]!,
          serial: `${batch}-${start}-${end}-VCS-VCU-500-VER-${iso}-1-${projectId}-0101${year}-3112${year}-0`,
          serialStart: start,
          serialEnd: end,
          retiredOn: i % 3 === 0 ? `${year + 2}-06-15` : null,
        };
      }
    }
  }
}

const csvNumber = (n: number) => (n >= 1000 ? `"${n.toLocaleString('en-US')}"` : String(n));

/** Writes the export to `path`, streaming. */
export async function writeVcuExport(path: string, blocks: number): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${VCU_HEADER}\n`);
  for (const b of syntheticBlocks(blocks)) {
    const line = [b.issuedOn, '', b.vintageStart, b.vintageEnd, b.projectId, b.name, b.country, 'Energy industries (renewable/non-renewable sources)',
      b.methodology, csvNumber(b.total), csvNumber(b.quantity), b.serial, '', b.retiredOn ?? '', b.retiredOn ? 'Synthetic Beneficiary Ltd' : '',
      b.retiredOn ? 'Environmental Benefit' : '', ''].join(',');
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
