import { sql } from 'drizzle-orm';
import type { OtherProgram } from '../../schema/db/projects.ts';
import { bigintArray, rows, type Database } from '../../schema/database.ts';
import type { Scope } from './findings.ts';
import { distinctiveName, nameNumbers } from './names.ts';

// Cross-registry project links (DESIGN §6 rule 3; reference/registries.md §6.2). The same activity in
// two registries is two projects; the rules that compare registries need to know which two.
//
// - Declared links come from what a registry says of its own project: Verra's `otherGhgProgramName` /
//   `otherGhgProgramId` (also registered there) and status "Units Transferred from Approved GHG Program"
//   (its units came from there), kept on projects.other_programs by the connectors. A declaration
//   becomes a link once the project it names is in the ledger.
// - Inferred links are candidates Tally proposes: two projects of different registries in one country
//   whose names are alike once the words every project uses are set aside, scored with the proponent,
//   the methodology and the location where both sides have them. Each carries its score and the parts
//   of it; a finding that rests on one says so.
//
// Links are derived data: each run recomputes the ones its scope touches.

/** Inferred links below this score are not kept. */
export const INFERRED_LINK_THRESHOLD = 0.6;
/** Name similarity (after generic words are set aside) a candidate needs before anything else is weighed. */
const NAME_THRESHOLD = 0.6;
/** Trigram similarity of distinctive names that preselects candidates through their index (scored again below). */
const PRESELECT_THRESHOLD = 0.5;

type Relation = 'same-activity' | 'converted-to';
export type Link = {
  fromProjectId: number; toProjectId: number; relation: Relation; source: 'declared' | 'inferred'; score: number | null;
  evidence: Record<string, unknown>;
};

// ---- declared ---------------------------------------------------------------------------------------

/** Programme names as registries write them → Tally registry ids. */
const PROGRAMS: readonly [RegExp, string][] = [
  [/\b(verra|vcs|verified carbon standard)\b/i, 'verra'],
  [/\b(gold standard|gs|gs4gg)\b/i, 'gold-standard'],
  [/\b(american carbon registry|acr)\b/i, 'american-carbon-registry'],
  [/\b(climate action reserve|car)\b/i, 'climate-action-reserve'],
  [/\b(art|trees|architecture for redd)\b/i, 'art-trees'],
  [/\b(clean development mechanism|cdm|cers?)\b/i, 'cdm'],
  [/\b(article 6\.4|a6\.4|pacm)\b/i, 'a64-mechanism'],
  [/\b(california air resources board|carb|arb)\b/i, 'arb'],
  [/\b(plan vivo)\b/i, 'plan-vivo'],
  [/\b(global carbon council|gcc)\b/i, 'global-carbon-council'],
  [/\b(j-credit|j-クレジット)\b/i, 'j-credit'],
  [/\b(joint crediting mechanism|jcm)\b/i, 'jcm'],
  [/\b(cercarbono|ecoregistry)\b/i, 'cercarbono'],
  [/\b(biocarbon)\b/i, 'biocarbon'],
  [/\b(puro)\b/i, 'puro'],
  [/\b(isometric)\b/i, 'isometric'],
  [/\b(socialcarbon|social carbon)\b/i, 'socialcarbon'],
];

/** The registry a programme name or a prefixed project id (`CAR400`, `VCS 1528`) names. */
export function registryOfProgram(program: string | undefined, projectId?: string): string | undefined {
  for (const text of [program, projectId?.match(/^[A-Za-z]+/)?.[0]]) {
    if (!text) continue;
    const hit = PROGRAMS.find(([pattern]) => pattern.test(text));
    if (hit) return hit[1];
  }
  return undefined;
}

/** A project id compared across the ways registries write it: `ACR0242` = `ACR242` = `242`, `VCS 1528` = `1528`. */
export function projectRefKey(id: string): string {
  const compact = id.toUpperCase().replace(/[^0-9A-Z]/g, '');
  return compact.replace(/^(VCS|GS|CAR|ACR|ART|CDM|PV|GCC)(?=\d)/, '').replace(/^0+(?=\d)/, '');
}

type DeclaringProject = { id: number; registry_id: string; key: string; other_programs: OtherProgram[] };

async function declaredLinks(db: Database): Promise<Link[]> {
  const declaring = await rows<DeclaringProject>(db, sql`select id::float8 as id, registry_id, key, other_programs from projects
    where other_programs is not null and jsonb_array_length(other_programs) > 0`);
  const wanted = new Map<string, Set<string>>(); // registry → ref keys
  const refs = declaring.flatMap((p) => p.other_programs.flatMap((o) => {
    const registry = registryOfProgram(o.program, o.projectId);
    if (!registry || !o.projectId || registry === p.registry_id) return [];
    const ref = projectRefKey(o.projectId);
    if (!wanted.has(registry)) wanted.set(registry, new Set());
    wanted.get(registry)!.add(ref);
    return [{ project: p, other: o, registry, ref }];
  }));
  if (refs.length === 0) return [];
  const targets = new Map<string, { id: number; key: string }>();
  for (const [registry, keys] of wanted) {
    const found = await rows<{ id: number; key: string; registry_project_id: string }>(db, sql`select id::float8 as id, key, registry_project_id
      from projects where registry_id = ${registry}`);
    for (const t of found) {
      const ref = projectRefKey(t.registry_project_id);
      if (keys.has(ref)) targets.set(`${registry}\n${ref}`, { id: t.id, key: t.key });
    }
  }
  return refs.flatMap(({ project, other, registry, ref }): Link[] => {
    const target = targets.get(`${registry}\n${ref}`);
    if (!target) return [];
    const evidence = { declaredBy: project.key, field: other.field, program: other.program ?? null, projectId: other.projectId };
    // "Its units came from there": the link runs from the source of the units to the project holding them.
    return other.relation === 'converted-from'
      ? [{ fromProjectId: target.id, toProjectId: project.id, relation: 'converted-to', source: 'declared', score: null, evidence }]
      : [{ fromProjectId: project.id, toProjectId: target.id, relation: 'same-activity', source: 'declared', score: null, evidence }];
  });
}

// ---- inferred ---------------------------------------------------------------------------------------

function trigrams(text: string): Set<string> {
  const grams = new Set<string>();
  for (const word of text.split(' ').filter(Boolean)) {
    const padded = `  ${word} `;
    for (let i = 0; i + 3 <= padded.length; i += 1) grams.add(padded.slice(i, i + 3));
  }
  return grams;
}

/** pg_trgm's similarity: shared trigrams over all trigrams of the two texts' words. */
export function trigramSimilarity(a: string, b: string): number {
  const ta = trigrams(a);
  const tb = trigrams(b);
  if (ta.size === 0 || tb.size === 0) return 0;
  let shared = 0;
  for (const g of ta) if (tb.has(g)) shared += 1;
  return shared / (ta.size + tb.size - shared);
}

type Candidate = {
  a_id: number; a_key: string; a_name: string; a_proponent: string | null; a_methodologies: string[]; a_type: string | null; a_category: string | null; a_lat: number | null; a_lon: number | null;
  b_id: number; b_key: string; b_name: string; b_proponent: string | null; b_methodologies: string[]; b_type: string | null; b_category: string | null; b_lat: number | null; b_lon: number | null;
  country: string;
};

const kilometres = (lat1: number, lon1: number, lat2: number, lon2: number) => {
  const rad = Math.PI / 180;
  const h = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 12_742 * Math.asin(Math.sqrt(h));
};

/** Scores one candidate pair, or undefined when it is not one activity. Weights: name .5, proponent .2, methodology .15, location .15. */
export function scoreCandidate(c: Candidate): { score: number; parts: Record<string, number> } | undefined {
  if (c.a_category && c.b_category && c.a_category !== c.b_category) return undefined;
  if (nameNumbers(c.a_name) !== nameNumbers(c.b_name)) return undefined;
  const name = trigramSimilarity(distinctiveName(c.a_name), distinctiveName(c.b_name));
  if (name < NAME_THRESHOLD) return undefined;
  const parts: Record<string, number> = { name };
  const weights: Record<string, number> = { name: 0.5 };
  if (c.a_proponent && c.b_proponent) {
    parts.proponent = trigramSimilarity(c.a_proponent.toLowerCase(), c.b_proponent.toLowerCase());
    weights.proponent = 0.2;
  }
  const sharedProtocol = c.a_methodologies.some((m) => c.b_methodologies.includes(m));
  if (sharedProtocol || (c.a_type && c.b_type)) {
    parts.methodology = sharedProtocol ? 1 : c.a_type === c.b_type ? 0.7 : 0;
    weights.methodology = 0.15;
  }
  if (c.a_lat !== null && c.a_lon !== null && c.b_lat !== null && c.b_lon !== null) {
    const km = kilometres(c.a_lat, c.a_lon, c.b_lat, c.b_lon);
    parts.location = km <= 2 ? 1 : km <= 20 ? 0.5 : 0;
    weights.location = 0.15;
  }
  const total = Object.values(weights).reduce((s, w) => s + w, 0);
  const score = Object.entries(weights).reduce((s, [k, w]) => s + (w * parts[k]!) / total, 0);
  return { score: Math.round(score * 1000) / 1000, parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Math.round(v * 1000) / 1000])) };
}

/** Projects written before names were keyed get their key (a no-op once every project has one). */
async function keyNames(db: Database): Promise<void> {
  const unkeyed = await rows<{ id: number; name: string }>(db, sql`select id::float8 as id, name from projects where name_key is null`);
  if (unkeyed.length === 0) return;
  const payload = JSON.stringify(unkeyed.map((p) => ({ id: p.id, name_key: distinctiveName(p.name) })));
  await db.execute(sql`update projects p set name_key = x.name_key
    from jsonb_to_recordset(${payload}::jsonb) as x(id bigint, name_key text) where p.id = x.id`);
}

async function inferredLinks(db: Database, scope: Scope): Promise<Link[]> {
  await keyNames(db);
  const inScope = scope ? sql`and a.id = any(${bigintArray(scope.projectIds)})` : sql``;
  const candidates = await db.transaction(async (txn) => {
    const tx = txn as unknown as Database;
    await tx.execute(sql.raw(`set local pg_trgm.similarity_threshold = ${PRESELECT_THRESHOLD}`));
    // Each pair once: in a full run a < b; in a scoped run a is the scoped project and b any other.
    return rows<Candidate>(tx, sql`select a.id::float8 as a_id, a.key as a_key, a.name as a_name, a.proponent as a_proponent,
        a.methodologies as a_methodologies, a.project_type as a_type, a.category as a_category, a.latitude as a_lat, a.longitude as a_lon,
        b.id::float8 as b_id, b.key as b_key, b.name as b_name, b.proponent as b_proponent,
        b.methodologies as b_methodologies, b.project_type as b_type, b.category as b_category, b.latitude as b_lat, b.longitude as b_lon,
        a.country
      from projects a
      join projects b on b.name_key % a.name_key and b.country = a.country and b.registry_id <> a.registry_id
        -- a private project is compared only with its owner's own projects
        and ((not a.is_private and not b.is_private) or a.owner_organization_id = b.owner_organization_id)
      where a.country is not null and a.name_key <> '' ${inScope} ${scope ? sql`` : sql`and a.id < b.id`}`);
  });
  return candidates.flatMap((c) => {
    const scored = scoreCandidate(c);
    if (!scored || scored.score < INFERRED_LINK_THRESHOLD) return [];
    // Lower id first, so a pair found from either end is one link.
    const [from, to] = c.a_id < c.b_id ? [c.a_id, c.b_id] : [c.b_id, c.a_id];
    return [{
      fromProjectId: from, toProjectId: to, relation: 'same-activity' as const, source: 'inferred' as const, score: scored.score,
      evidence: { projects: [c.a_key, c.b_key].sort(), names: [c.a_name, c.b_name], country: c.country, parts: scored.parts },
    }];
  });
}

// ---- writing ----------------------------------------------------------------------------------------

export type LinkOutcome = { declared: number; inferred: number };

/**
 * Recomputes project links: all declared links, and the inferred links of the projects in scope (all
 * of them in a full run). A pair both declared and inferred keeps the declared link only. A project
 * may have several counterparts in one registry (Corinth's two ACR phases and its Verra project).
 */
export async function linkProjects(db: Database, scope: Scope): Promise<LinkOutcome> {
  const declared = await declaredLinks(db);
  const declaredPairs = new Set(declared.map((l) => [l.fromProjectId, l.toProjectId].sort((x, y) => x - y).join('-')));
  const inferred = (await inferredLinks(db, scope)).filter((l) => !declaredPairs.has(`${l.fromProjectId}-${l.toProjectId}`));
  const unique = new Map<string, Link>();
  for (const l of [...declared, ...inferred]) unique.set(`${l.fromProjectId}-${l.toProjectId}-${l.relation}`, l);
  const payload = JSON.stringify([...unique.values()].map((l) => ({
    from_project_id: l.fromProjectId, to_project_id: l.toProjectId, relation: l.relation, source: l.source, score: l.score, evidence: l.evidence,
  })));
  const inferredInScope = scope
    ? sql`(l.from_project_id = any(${bigintArray(scope.projectIds)}) or l.to_project_id = any(${bigintArray(scope.projectIds)}))`
    : sql`true`;
  await db.transaction(async (txn) => {
    const tx = txn as unknown as Database;
    await tx.execute(sql`create temporary table if not exists new_links
      (from_project_id bigint, to_project_id bigint, relation link_relation, source link_source, score numeric, evidence jsonb) on commit drop`);
    await tx.execute(sql`insert into new_links select * from jsonb_to_recordset(${payload}::jsonb)
      as x(from_project_id bigint, to_project_id bigint, relation link_relation, source link_source, score numeric, evidence jsonb)`);
    // Gone: declared links no longer declared; inferred links of the scope no longer inferred.
    await tx.execute(sql`delete from project_links l where not exists (select 1 from new_links n
        where n.from_project_id = l.from_project_id and n.to_project_id = l.to_project_id and n.relation = l.relation and n.source = l.source)
      and (l.source = 'declared' or ${inferredInScope})`);
    await tx.execute(sql`insert into project_links (from_project_id, to_project_id, relation, source, score, evidence)
      select from_project_id, to_project_id, relation, source, score, evidence from new_links
      on conflict (from_project_id, to_project_id, relation) do update set source = excluded.source, score = excluded.score,
        evidence = excluded.evidence, updated_at = now()
      where (project_links.source, project_links.score, project_links.evidence) is distinct from (excluded.source, excluded.score, excluded.evidence)`);
  });
  return { declared: declared.length, inferred: inferred.length };
}
