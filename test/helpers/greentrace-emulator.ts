import { readFileSync } from 'node:fs';
import type { RecordedRequest, ReplayResponse, ReplayRoute } from './replay-server.ts';

// A stand-in for ICE GreenTrace's report centre (reference/registries.md §3.1), answering from rows
// shaped exactly as the captured ones (test/fixtures/api-captures/acr-*.json) the way the live service
// does: only a form-encoded body is understood (a JSON body or a query string gets its generic 500),
// `max` clamps at 2,000 with no marker, `holdingStatus` picks the ledger and the dataset key, and
// without it the answer is the whole holdings book under `holdings`.

export type Row = Record<string, unknown>;

/** The rows and total of one captured answer (`{datasets:{<key>:{rows,totalCount}}}`). */
export function capturedDataset(name: string): { key: string; rows: Row[]; totalCount: number } {
  const body = JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as { datasets: Record<string, { rows: Row[]; totalCount: number }> };
  const [key, dataset] = Object.entries(body.datasets)[0]!;
  return { key, rows: dataset.rows, totalCount: dataset.totalCount };
}

export type GreenTraceData = { projects: Row[]; issued: Row[]; retired: Row[]; cancelled: Row[] };

export const GREENTRACE_MAX = 2000;

const LEDGERS: Record<string, { key: string; rows: (d: GreenTraceData) => Row[] }> = {
  ISSUED: { key: 'issuedCredits', rows: (d) => d.issued },
  RETIRED: { key: 'retiredCredits', rows: (d) => d.retired },
  CANCELED: { key: 'cancelledCredits', rows: (d) => d.cancelled },
};

const genericError = (request: RecordedRequest): ReplayResponse => ({
  status: 500,
  json: { timestamp: '2026-08-04T10:00:00.000+00:00', status: 500, error: 'Internal Server Error', path: `/api/greentraceservice${request.path.split('/api/greentraceservice')[1] ?? ''}` },
});

/** Which report a request asks for, by path: `projects`, or the holdingStatus of a holding-summaries request. */
export function reportOf(request: RecordedRequest): string {
  if (request.path.endsWith('/project-summaries/results')) return 'projects';
  const fields = (request.body ?? {}) as Record<string, string>;
  return fields.holdingStatus ?? 'holdings';
}

/** Answers one `…/results` request from the data set. */
export function greenTraceResults(data: GreenTraceData) {
  return (request: RecordedRequest): ReplayResponse => {
    if (!String(request.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) return genericError(request);
    if (Object.keys(request.query).length > 0) return genericError(request);
    const fields = (request.body ?? {}) as Record<string, string>;
    const offset = Number(fields.offset ?? 0);
    const max = Math.min(Number(fields.max ?? 20), GREENTRACE_MAX);
    let key: string;
    let rows: Row[];
    if (request.path.endsWith('/project-summaries/results')) {
      key = 'projects';
      rows = data.projects;
    } else if (fields.holdingStatus === undefined) {
      key = 'holdings'; // the whole book: every ledger's rows again
      rows = [...data.issued, ...data.retired, ...data.cancelled];
    } else {
      const ledger = LEDGERS[fields.holdingStatus];
      key = ledger?.key ?? 'holdings';
      rows = ledger ? ledger.rows(data) : []; // an unknown status matches nothing
    }
    return { json: { datasets: { [key]: { rows: rows.slice(offset, offset + max), totalCount: rows.length } } } };
  };
}

/** The two routes of one tenant, answering from `answer` (the data set, or a test's script in front of it). */
export function greenTraceRoutes(tenant: string, answer: (request: RecordedRequest) => ReplayResponse): ReplayRoute[] {
  return [
    { method: 'POST', path: `/api/greentraceservice/v1/project/registry/${tenant}/project-summaries/results`, responses: [answer] },
    { method: 'POST', path: `/api/greentraceservice/v1/credit/registry/${tenant}/holding-summaries/results`, responses: [answer] },
  ];
}

/** ACR0934-style zero padding, as GreenTrace writes `projectReferenceId`. */
export const padded = (prefix: string, n: number | string) => `${prefix}${String(n).padStart(4, '0')}`;
