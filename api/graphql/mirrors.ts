import { disagreements, matchMirrors, type MirrorMatch } from '../../jobs/mirrors.ts';
import type { ProjectRow } from './loaders.ts';
import type { Context } from './context.ts';
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
  MirrorReport: {
    key: (m: MirrorMatch) => m.mirrorKey,
    project: (m: MirrorMatch) => m.registryProjectId ?? m.projectRef,
    status: (m: MirrorMatch, _: unknown, context: Context) => term(context, 'unitStatus', m.status),
    unitsOfRecord: (m: MirrorMatch) => m.covered,
    projectsOfRecord: (m: MirrorMatch) => m.projectKeys,
    disagreements: (m: MirrorMatch) => disagreements(m),
  },
};
