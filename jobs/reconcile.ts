import { sql, type SQL } from 'drizzle-orm';
import { rows, type Database } from '../schema/database.ts';
import { msg, render, type Message, type Params } from '../schema/messages/index.ts';

// Reconciliation with each registry's own figures: every total a source states about a registry
// (stated_totals: the CDM reports' `Total` rows, Verra's `Total Vintage Quantity`) beside Tally's figure
// for the same scope and measure, from the ledger of record (issuances and unit blocks without an owner;
// mirror records never add tonnes). Each difference is split into causes whose tonnes are computed from
// the ledger; what no cause accounts for is listed as unexplained, never absorbed.

export type ReconcileCause =
  /** Rows of the source that stated the figure left nothing in the ledger (rejected, or not read as units). */
  | 'rows-rejected'
  /** Blocks the registry no longer lists (a later complete pull superseded them): history, not current tonnes. */
  | 'superseded-blocks'
  /** The source lists only some blocks of the scope its figure covers (Verra's VCU export and `Total Vintage Quantity`). */
  | 'partial-listing'
  /** Ledger rows first written by a batch newer than the one that read the figure: the figure is older than the ledger. */
  | 'stated-older-than-ledger';

/** `detail`: what was counted, in English; `text`: the same as a message of the catalogues, for readers in any language. */
export type ReconcileExplanation = { cause: ReconcileCause; tonnes: number; detail: string; text: Message };

export type ReconcileLine = {
  registry: string;
  scope: 'registry' | 'project' | 'project-vintage';
  registryProjectId: string | null;
  vintageYear: number | null;
  vintageStart: string | null;
  vintageEnd: string | null;
  measure: string;
  /** The stream that stated the figure, and its words for it. */
  source: string;
  statedAs: string;
  stated: number;
  tally: number;
  /** Tally's figure less the stated one. */
  difference: number;
  explained: ReconcileExplanation[];
  unexplained: number;
  statedBatchId: number | null;
};

export type RegistryReconciliation = {
  registry: string;
  /** Registry-wide figures. */
  lines: ReconcileLine[];
  /** Per project (and vintage) figures. */
  projects: ReconcileLine[];
  /** Stated figures compared, and the sum of what no cause explains (absolute tonnes). */
  compared: number;
  unexplained: number;
};

type Stated = {
  id: number; registry: string; scope: ReconcileLine['scope']; project: string | null; vintage_year: number | null; vintage_start: string | null;
  vintage_end: string | null; measure: string; quantity: number; source: string; stated_as: string; batch: number | null; raw_record_id: number | null;
};

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Blocks of record in a stated figure's scope (current, or superseded), as SQL over `b`. */
function blockScope(s: Stated): SQL {
  const project = s.project === null ? sql`true` : sql`exists (select 1 from projects p where p.id = b.project_id and p.registry_project_id = ${s.project})`;
  const vintage = s.vintage_start !== null && s.vintage_end !== null
    ? sql`b.vintage_start = ${s.vintage_start}::date and b.vintage_end = ${s.vintage_end}::date`
    : s.vintage_year !== null ? sql`b.vintage_year = ${s.vintage_year}` : sql`true`;
  // A registry-wide figure of one source covers what that source wrote (its rows' lineage); a project's
  // figure covers the project's blocks whichever source listed them.
  const source = s.scope === 'registry'
    ? sql`exists (select 1 from record_lineage l join raw_records r on r.id = l.raw_record_id where l.block_id = b.id and r.stream = ${s.source} and r.registry_id = ${s.registry})`
    : sql`true`;
  const status = s.measure === 'issued' ? sql`true` : sql`b.status::text = ${s.measure}`;
  return sql`b.registry_id = ${s.registry} and b.owner_organization_id is null and ${project} and ${vintage} and ${source} and ${status}`;
}

/** Tally's figure for a stated total, and the ledger facts its causes are computed from. */
async function ledgerFigures(db: Database, s: Stated) {
  let tally = 0;
  let superseded = 0;
  let blocksListed = 0;
  let newer = 0;
  if (s.measure === 'records') {
    // An API's total count: the records Tally holds from that stream, one per record the registry keys
    // (a record pulled again, changed, is still one), else one per distinct content.
    const [row] = await rows<{ n: number }>(db, sql`
      select count(distinct coalesce(r.record_key, r.content_hash))::int as n
      from raw_records r join batches bt on bt.id = r.batch_id
      where r.registry_id = ${s.registry} and r.stream = ${s.source} and r.owner_organization_id is null and bt.status = 'committed'`);
    return { tally: row?.n ?? 0, superseded, blocksListed, newer };
  }
  const [blocks] = await rows<{ t: number; superseded: number; n: number; newer: number }>(db, sql`
    select coalesce(sum(b.quantity) filter (where b.superseded_in_batch_id is null), 0)::float8 as t,
           coalesce(sum(b.quantity) filter (where b.superseded_in_batch_id is not null), 0)::float8 as superseded,
           (count(*) filter (where b.superseded_in_batch_id is null and exists (select 1 from record_lineage l join raw_records r on r.id = l.raw_record_id
              where l.block_id = b.id and r.stream = ${s.source} and r.registry_id = ${s.registry})))::int as n,
           coalesce(sum(b.quantity) filter (where b.superseded_in_batch_id is null and b.first_batch_id > ${s.batch ?? 0}), 0)::float8 as newer
    from unit_blocks b where ${blockScope(s)}`);
  superseded = blocks?.superseded ?? 0;
  // Blocks of the scope that the stating source itself lists: only such a source lists "some blocks".
  blocksListed = blocks?.n ?? 0;
  if (s.measure === 'issued') {
    // Issued tonnes are the issuances' (a registry that lists issuances and, apart, only its retired
    // blocks, as Puro does, has no block for what is held); a registry-wide figure of one source
    // covers the issuances that source wrote.
    const project = s.project === null ? sql`true` : sql`exists (select 1 from projects p where p.id = i.project_id and p.registry_project_id = ${s.project})`;
    const vintage = s.vintage_start !== null && s.vintage_end !== null
      ? sql`i.vintage_start = ${s.vintage_start}::date and i.vintage_end = ${s.vintage_end}::date`
      : s.vintage_year !== null ? sql`i.vintage_year = ${s.vintage_year}` : sql`true`;
    const source = s.scope === 'registry'
      ? sql`exists (select 1 from record_lineage l join raw_records r on r.id = l.raw_record_id left join unit_blocks lb on lb.id = l.block_id
                    where (l.issuance_id = i.id or lb.issuance_id = i.id) and r.stream = ${s.source} and r.registry_id = ${s.registry})`
      : sql`true`;
    const [row] = await rows<{ t: number; newer: number }>(db, sql`
      select coalesce(sum(i.quantity), 0)::float8 as t,
             coalesce(sum(i.quantity) filter (where i.first_batch_id > ${s.batch ?? 0}), 0)::float8 as newer
      from issuances i
      where i.registry_id = ${s.registry} and i.owner_organization_id is null and ${project} and ${vintage} and ${source}`);
    return { tally: row?.t ?? 0, superseded, blocksListed, newer: row?.newer ?? 0 };
  }
  tally = blocks?.t ?? 0;
  newer = blocks?.newer ?? 0;
  return { tally, superseded, blocksListed, newer };
}

/**
 * Rows of the stating source that left nothing in the ledger, with their tonnes in the column the
 * figure sums: the column of the stating row that holds the figure (a report's `Total` row sums its
 * own column). Only registry-wide figures read from a row of their own have such a column.
 */
async function rowsLeftOut(db: Database, s: Stated): Promise<{ rows: number; tonnes: number }> {
  if (s.scope !== 'registry' || s.raw_record_id === null) return { rows: 0, tonnes: 0 };
  const [column] = await rows<{ key: string }>(db, sql`
    select e.key from raw_records r, jsonb_each_text(r.payload) e
    where r.id = ${s.raw_record_id} and e.value ~ '^[0-9]+(\\.[0-9]+)?$' and e.value::numeric = ${s.quantity}::numeric limit 1`);
  if (!column) return { rows: 0, tonnes: 0 };
  const [left] = await rows<{ n: number; t: number }>(db, sql`
    select count(*)::int as n, coalesce(sum((r.payload->>${column.key})::numeric), 0)::float8 as t
    from raw_records r join batches bt on bt.id = r.batch_id
    where r.registry_id = ${s.registry} and r.stream = ${s.source} and r.owner_organization_id is null and bt.status = 'committed'
      and r.id <> ${s.raw_record_id} and (r.payload->>${column.key}) ~ '^[0-9]+(\\.[0-9]+)?$'
      and not exists (select 1 from record_lineage l where l.raw_record_id = r.id)
      and not exists (select 1 from stated_totals st where st.raw_record_id = r.id)`);
  return { rows: left?.n ?? 0, tonnes: left?.t ?? 0 };
}

async function reconcileLine(db: Database, s: Stated): Promise<ReconcileLine> {
  const figures = await ledgerFigures(db, s);
  const difference = round(figures.tally - s.quantity);
  const explained: ReconcileExplanation[] = [];
  let remaining = difference;
  const claim = (cause: ReconcileCause, tonnes: number, params: Params) => {
    // A cause accounts for at most the part of the difference it can produce, in its direction.
    const part = remaining < 0 ? -Math.min(-remaining, tonnes) : Math.min(remaining, tonnes);
    if (round(part) === 0) return;
    const text = msg(`recon.${cause}`, params);
    explained.push({ cause, tonnes: round(Math.abs(part)), detail: render('en', text), text });
    remaining = round(remaining - part);
  };
  if (remaining < 0) {
    // The figure counts more than the ledger holds: rows not taken in, blocks since superseded, blocks never listed.
    const left = await rowsLeftOut(db, s);
    if (left.rows > 0) claim('rows-rejected', left.tonnes, { rows: left.rows });
    if (figures.superseded > 0) claim('superseded-blocks', figures.superseded, { tonnes: round(figures.superseded) });
    if (s.scope !== 'registry' && s.measure === 'issued' && figures.blocksListed > 0 && remaining < 0) {
      claim('partial-listing', -remaining, { blocks: figures.blocksListed, tally: round(figures.tally), stated: round(s.quantity) });
    }
  } else if (remaining > 0 && figures.newer > 0) {
    claim('stated-older-than-ledger', figures.newer, { tonnes: round(figures.newer) });
  }
  return {
    registry: s.registry, scope: s.scope, registryProjectId: s.project, vintageYear: s.vintage_year, vintageStart: s.vintage_start, vintageEnd: s.vintage_end,
    measure: s.measure, source: s.source, statedAs: s.stated_as, stated: round(s.quantity), tally: round(figures.tally), difference, explained,
    unexplained: round(remaining), statedBatchId: s.batch,
  };
}

/** Every registry's reconciliation (or one's), with the registries that state no figure left out. */
export async function reconcile(db: Database, options: { registry?: string } = {}): Promise<RegistryReconciliation[]> {
  const stated = await rows<Stated>(db, sql`
    select id::int, registry_id as registry, scope, registry_project_id as project, vintage_year, vintage_start::text, vintage_end::text, measure,
           quantity::float8 as quantity, source, stated_as, last_batch_id::int as batch, raw_record_id::int
    from stated_totals
    where owner_organization_id is null ${options.registry ? sql`and registry_id = ${options.registry}` : sql``}
    order by registry_id, scope = 'registry' desc, registry_project_id, vintage_start, vintage_year, measure, source`);
  const byRegistry = new Map<string, RegistryReconciliation>();
  for (const s of stated) {
    let entry = byRegistry.get(s.registry);
    if (!entry) byRegistry.set(s.registry, (entry = { registry: s.registry, lines: [], projects: [], compared: 0, unexplained: 0 }));
    const line = await reconcileLine(db, s);
    (line.scope === 'registry' ? entry.lines : entry.projects).push(line);
    entry.compared += 1;
    entry.unexplained = round(entry.unexplained + Math.abs(line.unexplained));
  }
  return [...byRegistry.values()];
}
