import { americanCarbonRegistry } from './american-carbon-registry/index.ts';
import { arb } from './arb/index.ts';
import { artTrees } from './art-trees/index.ts';
import { bcCarbonRegistry } from './bc-carbon-registry/index.ts';
import { bioCarbon } from './biocarbon/index.ts';
import { cdm } from './cdm/index.ts';
import { cercarbono } from './cercarbono/index.ts';
import { climateActionReserve } from './climate-action-reserve/index.ts';
import { globalCarbonCouncil } from './global-carbon-council/index.ts';
import { goldStandard } from './gold-standard/index.ts';
import { isometric } from './isometric/index.ts';
import { jCredit } from './j-credit/index.ts';
import { jcm } from './jcm/index.ts';
import { oxCarbon } from './oxcarbon/index.ts';
import { planVivo } from './plan-vivo/index.ts';
import { puro } from './puro/index.ts';
import { socialCarbon } from './socialcarbon/index.ts';
import type { ApiStream, Connector, FileFormat } from './types.ts';
import { ukLandCarbonRegistry } from './uk-land-carbon-registry/index.ts';
import { verra } from './verra/index.ts';

/** Every connector Tally has: the one list the CLI, the scheduler and the API read. */
export const connectors: readonly Connector[] = [verra, goldStandard, americanCarbonRegistry, artTrees, climateActionReserve, planVivo, arb, puro, bioCarbon, socialCarbon, globalCarbonCouncil, bcCarbonRegistry, ukLandCarbonRegistry, oxCarbon, jCredit, jcm, isometric, cercarbono, cdm];

export const fileFormats: readonly FileFormat[] = connectors.flatMap((c) => c.files);

/** The most specific format (most required columns) whose required columns a header row has, if any. */
export function matchFormat(headers: readonly string[], registry?: string): FileFormat | undefined {
  const present = new Set(headers);
  return fileFormats
    .filter((f) => (!registry || f.registry === registry) && f.requiredHeaders.every((h) => present.has(h)))
    .sort((a, b) => b.requiredHeaders.length - a.requiredHeaders.length)[0];
}

/** Columns found, as a message shows them: the first 50, each cut at 100 characters, and how many more. */
export function describeColumns(headers: readonly string[]): string {
  const shown = headers.slice(0, 50).map((h) => (h.length > 100 ? `${h.slice(0, 100)}…` : h));
  return `${shown.join(', ')}${headers.length > 50 ? ` … and ${(headers.length - 50).toLocaleString('en-US')} more (${headers.length.toLocaleString('en-US')} in all)` : ''}`;
}

/**
 * The export a file is, from its header row: the format whose required columns are all present
 * (the most specific when several are), limited to one registry when the user names it.
 * Throws with the formats that were expected when none matches.
 */
export function identifyFormat(headers: readonly string[], registry?: string): FileFormat {
  const candidates = fileFormats.filter((f) => !registry || f.registry === registry);
  if (registry && candidates.length === 0) {
    throw new Error(`no file formats for registry "${registry}"; registries with file formats: ${[...new Set(fileFormats.map((f) => f.registry))].join(', ')}`);
  }
  const match = matchFormat(headers, registry);
  if (match) return match;
  const expected = candidates.map((f) => `  ${f.id}: ${f.description}\n    needs columns: ${f.requiredHeaders.join(', ')}`).join('\n');
  throw new Error(`the file's columns match no export Tally knows${registry ? ` for ${registry}` : ''}.\nfound columns: ${describeColumns(headers)}\nexpected one of:\n${expected}`);
}

/**
 * Which connector's API stream a record saved from an API response belongs to (a JSON file given to
 * `tally ingest`). Throws, naming the streams that read JSON, when none or several recognise it.
 */
export function identifyJsonStream(record: Record<string, unknown>, registry?: string): { connector: Connector; stream: ApiStream } {
  const candidates = connectors.filter((c) => c.api && (!registry || c.registry === registry))
    .flatMap((connector) => connector.api!.streams(connector.api!.config.parse({})).map((stream) => ({ connector, stream })));
  const matches = candidates.filter(({ stream }) => stream.recognises?.(record));
  if (matches.length === 1) return matches[0]!;
  const readable = candidates.filter(({ stream }) => stream.recognises).map(({ connector, stream }) => `${connector.registry} ${stream.name}`);
  if (matches.length > 1) {
    throw new Error(`the records could be ${matches.map(({ connector, stream }) => `${connector.registry} ${stream.name}`).join(' or ')}; name the registry with --registry`);
  }
  throw new Error(`the records match no API response Tally reads (fields: ${Object.keys(record).slice(0, 12).join(', ')}…); JSON files are read as saved responses of: ${readable.join(', ')}`);
}
