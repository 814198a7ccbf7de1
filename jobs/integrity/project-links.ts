import { sql } from 'drizzle-orm';
import type { OtherProgram } from '../../schema/db/projects.ts';
import { bigintArray, rows, textArray, type Database } from '../../schema/database.ts';
import { parseKyotoSerialRange } from '../../connectors/cdm/serial.ts';
import { registries } from '../../connectors/index.ts';
import type { Scope } from './findings.ts';
import { distinctiveName, distinctiveProponent, nameNumbers, namePhase, trigrams, trigramSimilarity } from './names.ts';

// Cross-registry project links (DESIGN §6 rule 3; reference/registries.md §6.2). The same activity in
// two registries is two projects; the rules that compare registries need to know which two.
//
// - Declared links come from what a registry says of its own project: Verra's `otherGhgProgramName` /
//   `otherGhgProgramId` (also registered there) and status "Units Transferred from Approved GHG Program"
//   (its units came from there), kept on projects.other_programs by the connectors. A declaration
//   becomes a link once the project it names is in the ledger. An Article 6.4 activity that names a
//   CDM project (CAD Trust v2 `cadTrustReferenceProjectId`, kept as `converted-from`) transitioned from
//   it (decision 3/CMA.3 ¶73–75): `transitioned-from`, from the A6.4 project to the CDM one.
// - A registry that carries CDM units says so in their serials: a Kyoto serial in another registry's
//   records (Gold Standard's CER rows, `RW-5-1463953-2-2-0-7014 - …`) names the CDM project whose CERs
//   they are (Party RW, reference 7014). The registry declares that link through its own data.
// - CDM projects are one host Party's part of an activity (`KE-7014`, connectors/cdm/ids.ts); other
//   programmes name the activity by its reference number alone (`7014`, `CDM 7014`). Such a reference
//   links to the part in the declaring project's country, or to every part when none is there.
// - Inferred links are candidates Tally proposes: two projects of different registries in one country
//   whose names are alike once the words every project uses are set aside, scored with the proponent,
//   the methodology and the location where both sides have them. Each carries its score and the parts
//   of it; a finding that rests on one says so.
//
// Links are derived data: each run recomputes the ones its scope touches.

/** Inferred links below this score are not kept. */
export const INFERRED_LINK_THRESHOLD = 0.6;
/** Trigram similarity of the distinctive names a candidate needs before anything else is weighed. */
const NAME_THRESHOLD = 0.6;
/** Below this, two proponents' names (legal forms set aside) share nothing worth the name. */
const PROPONENT_FLOOR = 0.2;

type Relation = 'same-activity' | 'converted-to' | 'transitioned-from';
export type Link = {
  fromProjectId: number; toProjectId: number; relation: Relation; source: 'declared' | 'inferred'; score: number | null;
  evidence: Record<string, unknown>;
};

// ---- declared ---------------------------------------------------------------------------------------

/** A name as a whole word, case ignored, whatever the script (`J-クレジット` ends in no ASCII word boundary). */
const wholeWord = (name: string) => new RegExp(`(?<![\\p{L}\\p{N}])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'iu');

/** The registry a programme name or a prefixed project id (`CAR400`, `VCS 1528`) names, from the registries' manifests. */
export function registryOfProgram(program: string | undefined, projectId?: string): string | undefined {
  const named = registries().flatMap((r) => [...(r.programNames ?? []), ...(r.projectIdPrefix ? [r.projectIdPrefix] : [])]
    .map((name) => ({ id: r.id, pattern: wholeWord(name) })));
  for (const text of [program, projectId?.match(/^[A-Za-z]+/)?.[0]]) {
    if (!text) continue;
    const hit = named.find(({ pattern }) => pattern.test(text));
    if (hit) return hit.id;
  }
  return undefined;
}

/** A project id compared across the ways registries write it: `ACR0242` = `ACR242` = `242`, `VCS 1528` = `1528`. */
export function projectRefKey(id: string): string {
  const compact = id.toUpperCase().replace(/[^0-9A-Z]/g, '');
  const prefix = registries().map((r) => r.projectIdPrefix).find((p) => p && new RegExp(`^${p}(?=\\d)`).test(compact));
  return (prefix ? compact.slice(prefix.length) : compact).replace(/^0+(?=\d)/, '');
}

/** A CDM reference as other programmes write it (`7014`, `CDM 7014`, `CDM-7014`, `KE-7014`): its Party, where named, and number. */
export function cdmRef(id: string): { party?: string; ref: string } | undefined {
  const m = /^\s*(?:CDM[\s_-]*(?:PoA[\s_-]*|PA[\s_-]*)?(?:ref(?:erence)?[\s_.-]*)?)?(?:([A-Z]{2})-)?0*(\d+)\s*$/i.exec(id);
  return m ? { ...(m[1] ? { party: m[1].toUpperCase() } : {}), ref: m[2]! } : undefined;
}

type DeclaringProject = { id: number; registry_id: string; key: string; country: string | null; owner: number | null; other_programs: OtherProgram[] };
type Target = { id: number; key: string; country: string | null; owner: number | null; party?: string };

async function declaredLinks(db: Database): Promise<Link[]> {
  const declaring = await rows<DeclaringProject>(db, sql`select id::float8 as id, registry_id, key, country, owner_organization_id::float8 as owner, other_programs from projects
    where other_programs is not null and jsonb_array_length(other_programs) > 0`);
  const wanted = new Map<string, Set<string>>(); // registry → ref keys
  const refs = declaring.flatMap((p) => p.other_programs.flatMap((o) => {
    const registry = registryOfProgram(o.program, o.projectId);
    if (!registry || !o.projectId || registry === p.registry_id) return [];
    const cdm = registry === 'cdm' ? cdmRef(o.projectId) : undefined;
    if (registry === 'cdm' && !cdm) return [];
    const ref = cdm ? cdm.ref : projectRefKey(o.projectId);
    if (!wanted.has(registry)) wanted.set(registry, new Set());
    wanted.get(registry)!.add(ref);
    return [{ project: p, other: o, registry, ref, party: cdm?.party }];
  }));
  if (refs.length === 0) return [];
  const targets = new Map<string, Target[]>();
  for (const [registry, keys] of wanted) {
    const found = await rows<{ id: number; key: string; registry_project_id: string; country: string | null; owner: number | null }>(db, sql`select id::float8 as id, key,
        registry_project_id, country, owner_organization_id::float8 as owner
      from projects where registry_id = ${registry} order by id`);
    for (const t of found) {
      const cdm = registry === 'cdm' ? cdmRef(t.registry_project_id) : undefined;
      const ref = registry === 'cdm' ? cdm?.ref : projectRefKey(t.registry_project_id);
      if (ref === undefined || !keys.has(ref)) continue;
      const k = `${registry}\n${ref}`;
      targets.set(k, [...(targets.get(k) ?? []), { id: t.id, key: t.key, country: t.country, owner: t.owner, ...(cdm?.party ? { party: cdm.party } : {}) }]);
    }
  }
  return refs.flatMap(({ project, other, registry, ref, party }): Link[] => {
    // A declaration names a project of the declaring record's own source where it has one, else the
    // registry's own record: never another organization's upload of it.
    const candidates = targets.get(`${registry}\n${ref}`) ?? [];
    const own = candidates.filter((t) => t.owner === project.owner);
    const all = own.length > 0 ? own : candidates.filter((t) => t.owner === null);
    // A CDM reference names every host Party's part: the one it spells out, else the declaring
    // project's own country's, else all of them.
    const named = party ? all.filter((t) => t.party === party) : all.filter((t) => project.country !== null && t.country === project.country);
    // Elsewhere a reference names one project (the last of any that write it alike, as before).
    const chosen = registry !== 'cdm' ? all.slice(-1) : party || named.length > 0 ? named : all;
    const evidence = { declaredBy: project.key, field: other.field, program: other.program ?? null, projectId: other.projectId };
    return chosen.map((target): Link => {
      // An A6.4 activity that names its CDM project transitioned from it, whatever word the upload used.
      if (project.registry_id === 'a64-mechanism' && registry === 'cdm') {
        return { fromProjectId: project.id, toProjectId: target.id, relation: 'transitioned-from', source: 'declared', score: null, evidence };
      }
      if ((other.relation as string) === 'transitioned-from') {
        return { fromProjectId: project.id, toProjectId: target.id, relation: 'transitioned-from', source: 'declared', score: null, evidence };
      }
      // "Its units came from there": the link runs from the source of the units to the project holding them.
      return other.relation === 'converted-from'
        ? { fromProjectId: target.id, toProjectId: project.id, relation: 'converted-to', source: 'declared', score: null, evidence }
        : { fromProjectId: project.id, toProjectId: target.id, relation: 'same-activity', source: 'declared', score: null, evidence };
    });
  });
}

/**
 * CDM units another registry carries: its issuances, current blocks and reports of the CDM's own units
 * (mirror records) numbered in a Kyoto number space, whose serials name the CDM project (Party and
 * reference) they belong to.
 */
async function kyotoSerialLinks(db: Database): Promise<Link[]> {
  const carried = await rows<{ id: number; key: string; owner: number | null; serial: string }>(db, sql`select distinct p.id::float8 as id, p.key,
      p.owner_organization_id::float8 as owner, x.serial
    from (select project_id, serial_raw as serial from issuances where registry_id <> 'cdm' and number_space like 'cdm:%'
      union select project_id, serial_raw from unit_blocks where registry_id <> 'cdm' and number_space like 'cdm:%' and superseded_in_batch_id is null
      union select p.id, m.serial_raw from mirror_records m
        join projects p on p.registry_id = m.reported_by and p.registry_project_id = m.project_ref and p.owner_organization_id is not distinct from m.owner_organization_id
        where m.kind = 'units' and m.number_space like 'cdm:%') x
    join projects p on p.id = x.project_id
    where x.serial is not null
    order by 1, 3`);
  const named = new Map<string, { id: number; key: string; owner: number | null; cdmId: string; serials: string[] }>();
  for (const c of carried) {
    const parsed = parseKyotoSerialRange(c.serial);
    if (!parsed.ok || !parsed.range.projectId || !parsed.range.country) continue;
    const cdmId = `${parsed.range.country}-${parsed.range.projectId}`;
    const k = `${c.id}\n${cdmId}`;
    const entry = named.get(k) ?? { id: c.id, key: c.key, owner: c.owner, cdmId, serials: [] };
    entry.serials.push(parsed.range.raw);
    named.set(k, entry);
  }
  if (named.size === 0) return [];
  const ids = [...new Set([...named.values()].map((n) => n.cdmId))];
  const found = await rows<{ id: number; registry_project_id: string; owner: number | null }>(db, sql`select id::float8 as id, registry_project_id,
      owner_organization_id::float8 as owner
    from projects where registry_id = 'cdm' and registry_project_id = any(${textArray(ids)})`);
  // The CDM project of the carrying record's own source where it has one, else the registry's own record.
  const byId = new Map(found.map((f) => [`${f.registry_project_id}\n${f.owner}`, f.id]));
  return [...named.values()].flatMap((n): Link[] => {
    const target = byId.get(`${n.cdmId}\n${n.owner}`) ?? byId.get(`${n.cdmId}\nnull`);
    if (target === undefined) return [];
    return [{
      fromProjectId: n.id, toProjectId: target, relation: 'same-activity', source: 'declared', score: null,
      evidence: { declaredBy: n.key, field: 'serial', program: 'CDM', projectId: n.cdmId, serials: n.serials.slice(0, 5), serialCount: n.serials.length },
    }];
  });
}

// ---- inferred ---------------------------------------------------------------------------------------

/** What scoring compares of a project. */
type Linkable = {
  id: number; key: string; registry: string; country: string; name: string; proponent: string | null; methodologies: string[];
  type: string | null; category: string | null; lat: number | null; lon: number | null; owner: number | null; isPrivate: boolean;
};

const kilometres = (lat1: number, lon1: number, lat2: number, lon2: number) => {
  const rad = Math.PI / 180;
  const h = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 12_742 * Math.asin(Math.sqrt(h));
};

/**
 * Scores a candidate pair whose distinctive names have similarity `name`, or undefined when it is not
 * one activity. Weights: name .5, proponent .2, methodology .15, location .15, over the parts both have.
 */
export function scoreCandidate(a: Linkable, b: Linkable, name: number): { score: number; parts: Record<string, number> } | undefined {
  if (a.category && b.category && a.category !== b.category) return undefined;
  if (nameNumbers(a.name) !== nameNumbers(b.name)) return undefined;
  const [phaseA, phaseB] = [namePhase(a.name), namePhase(b.name)];
  if (phaseA !== '' && phaseB !== '' && phaseA !== phaseB) return undefined;
  if (name < NAME_THRESHOLD) return undefined;
  const parts: Record<string, number> = { name };
  const weights: Record<string, number> = { name: 0.5 };
  if (a.proponent && b.proponent) {
    parts.proponent = trigramSimilarity(distinctiveProponent(a.proponent), distinctiveProponent(b.proponent));
    // Names alike but proponents with nothing in common: two sites of one kind (J-Credit's "names" are
    // summaries such as 製紙工場におけるボイラーの更新), not one activity.
    if (parts.proponent < PROPONENT_FLOOR) return undefined;
    weights.proponent = 0.2;
  }
  const sharedProtocol = a.methodologies.some((m) => b.methodologies.includes(m));
  if (sharedProtocol || (a.type && b.type)) {
    parts.methodology = sharedProtocol ? 1 : a.type === b.type ? 0.7 : 0;
    weights.methodology = 0.15;
  }
  if (a.lat !== null && a.lon !== null && b.lat !== null && b.lon !== null) {
    const km = kilometres(a.lat, a.lon, b.lat, b.lon);
    parts.location = km <= 2 ? 1 : km <= 20 ? 0.5 : 0;
    weights.location = 0.15;
  }
  const total = Object.values(weights).reduce((sum, w) => sum + w, 0);
  const score = Object.entries(weights).reduce((sum, [k, w]) => sum + (w * parts[k]!) / total, 0);
  return { score: Math.round(score * 1000) / 1000, parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Math.round(v * 1000) / 1000])) };
}

/**
 * Candidate pairs of one country, found through an index of their distinctive names' trigrams: each
 * project meets only the projects it shares trigrams with, never the whole country. With `only`, the
 * pairs that involve one of those projects.
 */
function similarPairs(projects: Linkable[], only: Set<number> | undefined): { a: Linkable; b: Linkable; name: number }[] {
  const grams = projects.map((p) => trigrams(distinctiveName(p.name)));
  const postings = new Map<string, number[]>();
  grams.forEach((set, i) => {
    for (const gram of set) {
      const list = postings.get(gram);
      if (list) list.push(i);
      else postings.set(gram, [i]);
    }
  });
  const pairs: { a: Linkable; b: Linkable; name: number }[] = [];
  projects.forEach((a, i) => {
    if (only && !only.has(a.id)) return;
    const shared = new Map<number, number>();
    for (const gram of grams[i]!) for (const j of postings.get(gram)!) if (j !== i) shared.set(j, (shared.get(j) ?? 0) + 1);
    for (const [j, count] of shared) {
      const b = projects[j]!;
      // Each pair once: from its lower id, unless only the higher one is being looked at.
      if (b.id < a.id && (!only || only.has(b.id))) continue;
      if (b.registry === a.registry) continue;
      // A private project is compared only with its owner's own projects.
      if ((a.isPrivate || b.isPrivate) && (a.owner === null || a.owner !== b.owner)) continue;
      const name = count / (grams[i]!.size + grams[j]!.size - count);
      if (name >= NAME_THRESHOLD) pairs.push({ a, b, name });
    }
  });
  return pairs;
}

async function inferredLinks(db: Database, scope: Scope): Promise<Link[]> {
  const projects = await rows<Linkable>(db, sql`select id::float8 as id, key, registry_id as registry, country, name, proponent, methodologies,
      project_type as type, category, latitude as lat, longitude as lon, owner_organization_id::float8 as owner, is_private as "isPrivate"
    from projects where country is not null order by id`);
  const byCountry = new Map<string, Linkable[]>();
  for (const p of projects) {
    const list = byCountry.get(p.country);
    if (list) list.push(p);
    else byCountry.set(p.country, [p]);
  }
  const only = scope ? new Set(scope.projectIds) : undefined;
  return [...byCountry.values()].flatMap((list) => similarPairs(list, only)).flatMap(({ a, b, name }) => {
    const scored = scoreCandidate(a, b, name);
    if (!scored || scored.score < INFERRED_LINK_THRESHOLD) return [];
    // Lower id first, so a pair found from either end is one link.
    const [from, to] = a.id < b.id ? [a, b] : [b, a];
    return [{
      fromProjectId: from.id, toProjectId: to.id, relation: 'same-activity' as const, source: 'inferred' as const, score: scored.score,
      evidence: { projects: [from.key, to.key], names: [from.name, to.name], country: a.country, parts: scored.parts },
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
  const declared = [...await declaredLinks(db), ...await kyotoSerialLinks(db)];
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
