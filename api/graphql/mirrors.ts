import { disagreementMessages, matchMirrors, type MirrorMatch } from '../../jobs/mirrors.ts';
import { render } from '../../schema/messages/index.ts';
import type { ProjectRow } from './loaders.ts';
import type { Context } from './context.ts';
import type { ProjectFilter } from './filters.ts';
import { term } from './terms.ts';

// Mirror reports (jobs/mirrors.ts) where a reader meets units: the lookup of a serial, a project page.
// Each report is matched to the units of record when asked, for the reader's view of the ledger.

const MAX_REPORTS = 500;

export const mirrorResolvers = {
  Lookup: {
    async reportedBy(lookup: { readings: { numberSpace: string | null; start: number; end: number }[] }, _: unknown, context: Context) {
      const spaced = lookup.readings.filter((r): r is { numberSpace: string; start: number; end: number } => r.numberSpace !== null);
      const found = await Promise.all(spaced.map((r) => matchMirrors(context.db, { numberSpace: r.numberSpace, start: r.start, end: r.end }, context.viewer.organizationId)));
      return found.flat().slice(0, MAX_REPORTS);
    },
  },
  Project: {
    reportedBy: async (p: ProjectRow, _: unknown, context: Context) =>
      (await matchMirrors(context.db, { projectIds: [p.id] }, context.viewer.organizationId)).slice(0, MAX_REPORTS),
  },
  Trend: {
    async reportedOnly(trend: { axis: 'YEAR' | 'VINTAGE'; filter?: ProjectFilter | null }, _: unknown, context: Context) {
      const registries = trend.filter?.registries?.length ? new Set(trend.filter.registries) : undefined;
      const points = new Map<string, { year: number | null; registry: string; source: string; status: string; quantity: number }>();
      for (const m of await matchMirrors(context.db, { all: true }, context.viewer.organizationId)) {
        if (m.matchedBy !== null || (registries && !registries.has(m.registry))) continue;
        const year = trend.axis === 'VINTAGE' ? m.vintageYear : m.statusDate ? Number(m.statusDate.slice(0, 4)) : null;
        const key = JSON.stringify([year, m.registry, m.reportedBy, m.status]);
        const point = points.get(key) ?? { year, registry: m.registry, source: m.reportedBy, status: m.status, quantity: 0 };
        point.quantity += m.quantity;
        points.set(key, point);
      }
      const ordered = [...points.values()]
        .sort((a, b) => (a.year ?? Infinity) - (b.year ?? Infinity) || a.registry.localeCompare(b.registry) || a.source.localeCompare(b.source) || a.status.localeCompare(b.status));
      return Promise.all(ordered.map(async (p) => {
        const registry = await context.loaders.registry.load(p.registry);
        const label = (context.locale === 'ja' ? registry?.nameJa : registry?.name) ?? p.registry;
        return { ...p, registry: { code: p.registry, label }, status: term(context, 'unitStatus', p.status) };
      }));
    },
  },
  MirrorReport: {
    key: (m: MirrorMatch) => m.mirrorKey,
    project: (m: MirrorMatch) => m.registryProjectId ?? m.projectRef,
    status: (m: MirrorMatch, _: unknown, context: Context) => term(context, 'unitStatus', m.status),
    unitsOfRecord: (m: MirrorMatch) => m.covered,
    projectsOfRecord: (m: MirrorMatch) => m.projectKeys,
    disagreements: (m: MirrorMatch, _: unknown, context: Context) => disagreementMessages(m).map((d) => render(context.locale, d)),
  },
};
