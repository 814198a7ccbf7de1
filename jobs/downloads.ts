import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { rows, visibleTo, type Database } from '../schema/database.ts';
import { csvLine } from './csv.ts';

// Whole-dataset downloads for researchers (README, "Downloads"): every project and every transaction the
// caller may see, as CSV and as Parquet, with a manifest saying when they were made, how fresh each
// source is, what each file holds (rows, size, SHA-256) and what each column means, in English and
// Japanese. Rows are read a page at a time and written as they come, so memory stays flat as the ledger
// grows; Parquet is written a row group at a time (hyparquet-writer: typed columns, strings
// dictionary-encoded where that pays, Snappy).

type ColumnType = 'string' | 'int32' | 'int64' | 'tonnes' | 'date' | 'double';
export type Column = { name: string; type: ColumnType; en: string; ja: string };
type Row = Record<string, unknown> & { id: number | string };

export type Dataset = {
  name: 'projects' | 'credits';
  columns: readonly Column[];
  /** The column rows are read in order of, a page at a time. */
  id: string;
  /** Every row visible to `viewer`: a select whose where clause more conditions may follow. */
  select(viewer: number | null): SQL;
};

/** Tag codes the caller may see (vocabulary `tag`, schema/db/tags.ts), `;`-separated in code order. */
const PROJECT_TAGS_COLUMN: Column = {
  name: 'tags', type: 'string',
  en: 'Tag codes of the project and of its issuances and blocks, `;`-separated (vocabulary tag: corsia:first-phase, ccp:approved, article6:authorized, ca:pending, cadt-label:letter-of-authorization…); each tag\'s source is in the API (Project.tags)',
  ja: 'プロジェクトとその発行・ブロックのタグのコード（「;」区切り。語彙 tag：corsia:first-phase、ccp:approved、article6:authorized、ca:pending、cadt-label:letter-of-authorization など）。各タグの出典はAPI（Project.tags）で確認できます',
};
const CREDIT_TAGS_COLUMN: Column = {
  name: 'tags', type: 'string',
  en: 'Tag codes of the units of the transaction, `;`-separated: its block\'s, its issuance\'s (for an issuance, also those of the issuance\'s blocks) and its project\'s own (vocabulary tag: corsia:first-phase, ccp:approved, article6:authorized…)',
  ja: '取引のユニットのタグのコード（「;」区切り）：ブロック、発行（発行の行ではその発行のブロックのものも）、プロジェクト自身のもの（語彙 tag：corsia:first-phase、ccp:approved、article6:authorized など）',
};

const PROJECT_COLUMNS: readonly Column[] = [
  { name: 'registry', type: 'string', en: 'Registry that holds the project (Tally registry id)', ja: 'プロジェクトを管理する登録簿（Tallyの登録簿ID）' },
  { name: 'project_key', type: 'string', en: 'Tally project key: registry and the registry\'s project id', ja: 'Tallyのプロジェクトキー（登録簿と登録簿のプロジェクトID）' },
  { name: 'registry_project_id', type: 'string', en: 'The registry\'s own project id', ja: '登録簿のプロジェクトID' },
  { name: 'name', type: 'string', en: 'Project name as the registry gives it', ja: '登録簿によるプロジェクト名' },
  { name: 'name_ja', type: 'string', en: 'Japanese project name, where one is published', ja: 'プロジェクト名（日本語、公表されている場合）' },
  { name: 'country', type: 'string', en: 'Host country, ISO 3166-1 alpha-2', ja: 'ホスト国（ISO 3166-1 alpha-2）' },
  { name: 'category', type: 'string', en: 'Project category (vocabulary category)', ja: 'プロジェクト分類（語彙 category）' },
  { name: 'project_type', type: 'string', en: 'Project type (Tally taxonomy)', ja: 'プロジェクト種類（Tallyの分類）' },
  { name: 'reduction_removal', type: 'string', en: 'Reduction, removal or mixed', ja: '削減／除去・吸収／混合' },
  { name: 'methodology', type: 'string', en: 'Methodologies, `;`-separated (Tally codes)', ja: '方法論（「;」区切り、Tallyのコード）' },
  { name: 'methodology_raw', type: 'string', en: 'Methodology as the registry writes it', ja: '登録簿の記載どおりの方法論' },
  { name: 'status', type: 'string', en: 'Project status (vocabulary projectStatus)', ja: 'プロジェクトの状態（語彙 projectStatus）' },
  { name: 'registered_on', type: 'date', en: 'Registration date', ja: '登録日' },
  { name: 'crediting_period_start', type: 'date', en: 'Start of the crediting period', ja: 'クレジット期間の開始日' },
  { name: 'crediting_period_end', type: 'date', en: 'End of the crediting period', ja: 'クレジット期間の終了日' },
  { name: 'issued', type: 'tonnes', en: 'Tonnes issued (sum of issuance rows of credits)', ja: '発行量（t-CO2e、credits の issuance 行の合計）' },
  { name: 'retired', type: 'tonnes', en: 'Tonnes retired', ja: '無効化量（t-CO2e）' },
  { name: 'cancelled', type: 'tonnes', en: 'Tonnes cancelled', ja: '取消量（t-CO2e）' },
  PROJECT_TAGS_COLUMN,
];

/** transaction_type of each event kind. */
const TRANSACTION_TYPES = sql`case e.kind when 'issued' then 'issuance' when 'retired' then 'retirement' when 'cancelled' then 'cancellation'
  when 'converted-out' then 'conversion_out' when 'converted-in' then 'conversion_in' when 'expired' then 'expiry'
  when 'transferred' then 'transfer' when 'first-transferred' then 'first_transfer' when 'ca-applied' then 'corresponding_adjustment' end`;

const CREDIT_COLUMNS: readonly Column[] = [
  { name: 'transaction_type', type: 'string', en: 'issuance, retirement, cancellation, conversion_out, conversion_in, expiry, transfer, first_transfer or corresponding_adjustment', ja: 'issuance（発行）、retirement（無効化）、cancellation（取消）、conversion_out（転換（移出））、conversion_in（転換（移入））、expiry（失効）、transfer（移転）、first_transfer（初回移転）、corresponding_adjustment（相当調整）' },
  { name: 'quantity', type: 'tonnes', en: 'Tonnes (tCO2e) of the transaction', ja: '取引量（t-CO2e）' },
  { name: 'registry', type: 'string', en: 'Registry where the transaction happened', ja: '取引が行われた登録簿' },
  { name: 'project_key', type: 'string', en: 'Tally project key (see projects)', ja: 'Tallyのプロジェクトキー（projects を参照）' },
  { name: 'vintage', type: 'int32', en: 'Vintage year', ja: 'ヴィンテージ年' },
  { name: 'transaction_date', type: 'date', en: 'Date of the transaction, where the registry gives it', ja: '取引日（登録簿が公表している場合）' },
  { name: 'serial_start', type: 'int64', en: 'First serial number of the units (in number_space)', ja: 'ユニットの最初のシリアル番号（number_space 内）' },
  { name: 'serial_end', type: 'int64', en: 'Last serial number of the units', ja: 'ユニットの最後のシリアル番号' },
  { name: 'serial', type: 'string', en: 'Serial block as the registry writes it', ja: '登録簿の記載どおりのシリアルブロック' },
  { name: 'number_space', type: 'string', en: 'Serial number space: serials are unique within it', ja: 'シリアル番号空間（その中でシリアル番号は一意）' },
  { name: 'unit_type', type: 'string', en: 'Unit type (vocabulary creditType: vcu, ver, cer…)', ja: 'ユニット種別（語彙 creditType：vcu、ver、cer など）' },
  { name: 'counterparty_registry', type: 'string', en: 'The other registry of a conversion or transfer', ja: '転換・移転の相手方登録簿' },
  { name: 'source', type: 'string', en: 'Source of record: the registry itself, or upload:<organization> for an organization\'s upload', ja: '記録元（登録簿自身、または組織のアップロードの場合 upload:<組織>）' },
  { name: 'beneficiary', type: 'string', en: 'Retirement beneficiary, where the registry publishes it', ja: '無効化の受益者（登録簿が公表している場合）' },
  { name: 'purpose', type: 'string', en: 'Retirement purpose (vocabulary retirementPurpose)', ja: '無効化の目的（語彙 retirementPurpose）' },
  { name: 'purpose_details', type: 'string', en: 'Retirement reason as the registry writes it', ja: '登録簿の記載どおりの無効化の理由' },
  CREDIT_TAGS_COLUMN,
];

/** Tonnes as text with at most three decimals, as stored (numeric(20, 3)). */
const tonnes = (column: SQL) => sql`trim_scale(${column})::text`;

export const DATASETS: readonly Dataset[] = [
  {
    name: 'projects',
    columns: PROJECT_COLUMNS,
    id: 'p.id',
    select: (viewer) => sql`select p.id, p.registry_id as registry, p.key as project_key, p.registry_project_id, p.name, p.name_ja,
        p.country, p.category, p.project_type, p.reduction_removal::text as reduction_removal, array_to_string(p.methodologies, ';') as methodology,
        p.methodology_raw, p.status::text as status, p.registered_on::text as registered_on, p.crediting_period_start::text as crediting_period_start,
        p.crediting_period_end::text as crediting_period_end,
        ${tonnes(sql`coalesce(t.issued, 0)`)} as issued, ${tonnes(sql`coalesce(t.retired, 0)`)} as retired, ${tonnes(sql`coalesce(t.cancelled, 0)`)} as cancelled,
        array_to_string(array(select distinct g.code from tags g where g.project_id = p.id and ${visibleTo('g', viewer)} order by 1), ';') as tags
      from projects p
      left join lateral (select sum(f.quantity) filter (where f.kind = 'issued') as issued, sum(f.quantity) filter (where f.kind = 'retired') as retired,
          sum(f.quantity) filter (where f.kind = 'cancelled') as cancelled
        from trend_facts f where f.project_id = p.id and ${visibleTo('f', viewer)}) t on true
      where ${visibleTo('p', viewer)}`,
  },
  {
    name: 'credits',
    columns: CREDIT_COLUMNS,
    id: 'e.id',
    select: (viewer) => sql`select e.id, ${TRANSACTION_TYPES} as transaction_type, ${tonnes(sql`e.quantity`)} as quantity,
        e.registry_id as registry, p.key as project_key, coalesce(e.vintage_year, b.vintage_year, i.vintage_year) as vintage,
        e.occurred_on::text as transaction_date,
        coalesce(b.serial_start, i.serial_start)::text as serial_start, coalesce(b.serial_end, i.serial_end)::text as serial_end,
        coalesce(b.serial_raw, i.serial_raw) as serial, coalesce(b.number_space, i.number_space) as number_space,
        coalesce(b.credit_type, i.credit_type) as unit_type, e.counterparty_registry_id as counterparty_registry,
        case when e.owner_organization_id is null then e.registry_id else 'upload:' || o.slug end as source,
        case when e.kind in ('retired', 'cancelled') then b.retirement_beneficiary end as beneficiary,
        case when e.kind in ('retired', 'cancelled') then b.retirement_purpose::text end as purpose,
        case when e.kind in ('retired', 'cancelled') then b.retirement_reason end as purpose_details,
        array_to_string(array(select distinct c.code from (
            select g.code from tags g where g.block_id = e.block_id and ${visibleTo('g', viewer)}
            union all select g.code from tags g where g.issuance_id = coalesce(e.issuance_id, b.issuance_id) and ${visibleTo('g', viewer)}
            union all select g.code from unit_blocks ub join tags g on g.block_id = ub.id
              where e.block_id is null and ub.issuance_id = e.issuance_id and ${visibleTo('g', viewer)}
            union all select g.code from tags g where g.project_id = e.project_id and g.block_id is null and g.issuance_id is null and ${visibleTo('g', viewer)}
          ) c order by 1), ';') as tags
      from events e
      join projects p on p.id = e.project_id
      left join unit_blocks b on b.id = e.block_id
      left join issuances i on i.id = e.issuance_id
      left join organizations o on o.id = e.owner_organization_id
      where ${visibleTo('e', viewer)} and ${visibleTo('p', viewer)}`,
  },
];

export const DOWNLOAD_FILES = DATASETS.flatMap((d) => [`${d.name}.csv`, `${d.name}.parquet`]);

const PAGE_ROWS = 5_000;
const ROW_GROUP_ROWS = 20_000;

/** A file being written, with its SHA-256 and size kept as the bytes go out. */
class HashedFile {
  readonly #hash = createHash('sha256');
  bytes = 0;
  private constructor(readonly handle: FileHandle) {}

  static async create(path: string): Promise<HashedFile> {
    return new HashedFile(await open(path, 'w'));
  }

  async write(data: string | Uint8Array): Promise<void> {
    const buffer = typeof data === 'string' ? Buffer.from(data) : data;
    this.#hash.update(buffer);
    this.bytes += buffer.byteLength;
    await this.handle.write(buffer);
  }

  async close(): Promise<{ bytes: number; sha256: string }> {
    await this.handle.close();
    return { bytes: this.bytes, sha256: this.#hash.digest('hex') };
  }
}

/** hyparquet-writer's buffer, handed to a file after each row group and at the end. */
class FileByteWriter extends ByteWriter {
  constructor(readonly file: HashedFile) {
    super(1 << 20);
  }

  async flush(): Promise<void> {
    const bytes = this.getBytes().slice();
    this.index = 0;
    await this.file.write(bytes);
  }

  override async finish(): Promise<void> {
    await this.flush();
  }
}

const PARQUET_TYPES: Record<ColumnType, object> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
  tonnes: { type: 'INT64', converted_type: 'DECIMAL', precision: 18, scale: 3 },
  date: { type: 'INT32', converted_type: 'DATE' },
  double: { type: 'DOUBLE' },
};

/** A column's value as hyparquet-writer takes it: tonnes as thousandths (DECIMAL scale 3), dates as Date, serials as bigint. */
function parquetValue(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'tonnes': {
      const [whole, fraction = ''] = String(value).split('.');
      return BigInt(`${whole}${fraction.padEnd(3, '0')}`);
    }
    case 'int64': return BigInt(String(value));
    case 'int32': return Number(value);
    case 'date': return new Date(`${String(value)}T00:00:00Z`);
    case 'double': return Number(value);
    case 'string': return String(value);
  }
}

export type WrittenFile = { name: string; rows: number; bytes: number; sha256: string };

/** Writes one dataset as CSV and Parquet into `dir`, page by page. */
async function writeDataset(db: Database, viewer: number | null, dataset: Dataset, dir: string): Promise<WrittenFile[]> {
  const { columns } = dataset;
  const csv = await HashedFile.create(join(dir, `${dataset.name}.csv`));
  const parquetFile = await HashedFile.create(join(dir, `${dataset.name}.parquet`));
  const parquet = new ParquetWriter({
    writer: new FileByteWriter(parquetFile),
    schema: [{ name: 'root', num_children: columns.length }, ...columns.map((c) => ({ name: c.name, repetition_type: 'OPTIONAL' as const, ...PARQUET_TYPES[c.type] }))] as never,
    createdBy: 'Tally',
  });
  let group: unknown[][] = columns.map(() => []);
  const writeGroup = async () => {
    if (group[0]!.length === 0) return;
    await parquet.write({ columnData: columns.map((c, n) => ({ name: c.name, data: group[n]! })) as never, rowGroupSize: ROW_GROUP_ROWS });
    group = columns.map(() => []);
  };
  await csv.write(csvLine(columns.map((c) => c.name)));
  let count = 0;
  let after = 0;
  for (;;) {
    const id = sql.raw(dataset.id);
    const page = await rows<Row>(db, sql`${dataset.select(viewer)} and ${id} > ${after} order by ${id} limit ${PAGE_ROWS}`);
    if (page.length === 0) break;
    await csv.write(page.map((row) => csvLine(columns.map((c) => row[c.name]))).join(''));
    for (const row of page) columns.forEach((c, n) => group[n]!.push(parquetValue(c.type, row[c.name])));
    if (group[0]!.length >= ROW_GROUP_ROWS) await writeGroup();
    count += page.length;
    after = Number(page[page.length - 1]!.id);
  }
  await writeGroup();
  await parquet.finish();
  return [
    { name: `${dataset.name}.csv`, rows: count, ...await csv.close() },
    { name: `${dataset.name}.parquet`, rows: count, ...await parquetFile.close() },
  ];
}

export type Manifest = {
  generated_at: string;
  /** How many committed batches the files include (downloadsVersion). */
  ledger_version: number;
  /** Whose rows besides the public ones the files hold. */
  organization: string | null;
  sources: { registry: string; last_successful_pull: string | null; age_seconds: number | null }[];
  files: WrittenFile[];
  columns: Record<string, readonly Column[]>;
};

/**
 * How many committed batches `viewer` may see: it grows with every commit, in whatever order batches
 * started, so the files of one version hold the same rows. Another organization's private batch
 * leaves it as it was, so nothing about the files tells of that batch.
 */
export async function downloadsVersion(db: Database, viewer: number | null): Promise<number> {
  const [v] = await rows<{ batches: number }>(db, sql`select count(*)::int as batches from batches b where b.status = 'committed' and ${visibleTo('b', viewer)}`);
  return v?.batches ?? 0;
}

/**
 * Writes every download and the manifest into `dir` (created): the rows public to all, and those
 * private to `viewer`'s organization when one is given.
 */
export async function writeDownloads(db: Database, dir: string, viewer: { organizationId: number | null; organization: string | null }): Promise<Manifest> {
  await mkdir(dir, { recursive: true });
  const version = await downloadsVersion(db, viewer.organizationId);
  const files: WrittenFile[] = [];
  for (const dataset of DATASETS) files.push(...await writeDataset(db, viewer.organizationId, dataset, dir));
  const generatedAt = new Date();
  const sources = await rows<{ registry: string; last: string | Date | null }>(db, sql`select r.id as registry,
      (select max(b.finished_at) from batches b where b.registry_id = r.id and b.status = 'committed' and ${visibleTo('b', viewer.organizationId)}) as last
    from registries r order by r.id`);
  const manifest: Manifest = {
    generated_at: generatedAt.toISOString(),
    ledger_version: version,
    organization: viewer.organization,
    sources: sources.map((s) => {
      const last = s.last === null ? null : new Date(s.last);
      return { registry: s.registry, last_successful_pull: last?.toISOString() ?? null, age_seconds: last ? Math.round((generatedAt.getTime() - last.getTime()) / 1000) : null };
    }),
    files,
    columns: Object.fromEntries(DATASETS.map((d) => [d.name, d.columns])),
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * The downloads of the ledger's current version for one viewer, under `root`: written on first use
 * (into a folder of their own, renamed into place once whole), then served as they are until a batch
 * commits. Older versions of the same viewer's files are removed.
 */
export class DownloadCache {
  readonly #making = new Map<string, Promise<string>>();
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async current(db: Database, viewer: { organizationId: number | null; organization: string | null }): Promise<{ dir: string; manifest: Manifest }> {
    const who = viewer.organizationId === null ? 'public' : `organization-${viewer.organizationId}`;
    const dir = join(this.root, `${who}-${await downloadsVersion(db, viewer.organizationId)}`);
    let making = this.#making.get(dir);
    if (!making) {
      making = this.#make(db, viewer, who, dir).finally(() => this.#making.delete(dir));
      this.#making.set(dir, making);
    }
    await making;
    return { dir, manifest: JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest };
  }

  async #make(db: Database, viewer: { organizationId: number | null; organization: string | null }, who: string, dir: string): Promise<string> {
    if (await exists(join(dir, 'manifest.json'))) return dir;
    const partial = `${dir}.partial-${process.pid}-${Date.now()}`;
    try {
      await writeDownloads(db, partial, viewer);
      // Another process sharing the folder (a worker of TALLY_WORKERS) may have put the same version in place first.
      await rename(partial, dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
    for (const name of await readdir(this.root)) {
      if (name.startsWith(`${who}-`) && join(this.root, name) !== dir && !name.includes('.partial-')) await rm(join(this.root, name), { recursive: true, force: true });
    }
    return dir;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * A dated snapshot of the public downloads in `root` (`2026-12-07T04-45-00.000Z/`), keeping the newest
 * `keep` snapshots and removing older ones. Returns the snapshot's folder.
 */
export async function writeSnapshot(db: Database, root: string, keep: number): Promise<string> {
  const name = new Date().toISOString().replace(/:/g, '-');
  const dir = join(root, name);
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await writeDownloads(db, partial, { organizationId: null, organization: null });
  await rename(partial, dir);
  const snapshots = (await readdir(root)).filter((n) => /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z$/.test(n)).sort();
  for (const old of snapshots.slice(0, Math.max(0, snapshots.length - keep))) await rm(join(root, old), { recursive: true, force: true });
  return dir;
}
