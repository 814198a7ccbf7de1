import { a64Mechanism } from './a64-mechanism/index.ts';
import { aefUpload } from './article6/index.ts';
import { cadtV1Upload, cadtV2Upload } from './cad-trust/index.ts';
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
import { describeFormatColumns, matchColumns, type ColumnMatch } from './runtime/columns.ts';
import type { ApiStream, Connector, FileFormat, RegistryManifest, UnitStatus, UploadFormat } from './types.ts';
import { ukLandCarbonRegistry } from './uk-land-carbon-registry/index.ts';
import { verra } from './verra/index.ts';

/**
 * Every connector Tally has: the one list the CLI, the scheduler, the API, the registry seed, the
 * linker, serial lookups and the CAD Trust mapping read. Adding a registry is one folder and one line here.
 */
const list: Connector[] = [
  verra, goldStandard, americanCarbonRegistry, artTrees, climateActionReserve, planVivo, arb, puro, bioCarbon, socialCarbon,
  globalCarbonCouncil, bcCarbonRegistry, ukLandCarbonRegistry, oxCarbon, jCredit, jcm, isometric, cercarbono, cdm, a64Mechanism,
];

export const connectors: readonly Connector[] = list;

/** Files read together as one upload, in the order they are recognised (before single-file exports). */
export const uploadFormats: readonly UploadFormat[] = [aefUpload, cadtV1Upload, cadtV2Upload];

/**
 * Adds a connector at run time (a registry defined outside this list, as a test does); everything derived
 * from the list sees it from then on. A registry already listed is refused.
 */
export function registerConnector(connector: Connector): void {
  if (registries().some((r) => r.id === connector.registry.id)) throw new Error(`registry "${connector.registry.id}" is registered already`);
  list.push(connector);
}

/** Every registry the connectors declare (a connector's own, then the others it stores). */
export function registries(): RegistryManifest[] {
  return list.flatMap((c) => [c.registry, ...(c.otherRegistries ?? [])]);
}

/**
 * Where a registry's units are on record (DESIGN §3, "Sources of record and mirrors"): `own` when Tally
 * reads the registry's own files or API, so any other source that reports its units (CAD Trust's data
 * layer, another registry's export) is a mirror; `uploads` when it publishes through uploads only
 * (national registries, the Article 6.4 mechanism), whose uploads are then its record.
 */
export function sourceOfRecord(registry: string): 'own' | 'uploads' {
  const connector = list.find((c) => c.registry.id === registry || c.otherRegistries?.some((r) => r.id === registry));
  return connector && (connector.files.length > 0 || connector.api) ? 'own' : 'uploads';
}

/** How a registry's own terms read a status another source reports for its units. */
export function mirrorStatus(registry: string, status: UnitStatus): UnitStatus {
  return registries().find((r) => r.id === registry)?.mirrorStatuses?.[status] ?? status;
}

/** The file formats of every connector. */
export function fileFormats(): FileFormat[] {
  return list.flatMap((c) => c.files);
}


/** Which formats a file may be: one registry's (`--registry`), or one format (`--format`). */
export type FormatChoice = { registry?: string | undefined; format?: string | undefined };

function candidates(choice: FormatChoice): readonly FileFormat[] {
  if (choice.format) {
    const format = fileFormats().find((f) => f.id === choice.format);
    if (!format) throw new Error(`no file format "${choice.format}"; formats: ${fileFormats().map((f) => f.id).join(', ')}`);
    if (choice.registry && format.registry !== choice.registry) throw new Error(`file format ${format.id} is ${format.registry}'s, not ${choice.registry}'s`);
    return [format];
  }
  const formats = fileFormats().filter((f) => !choice.registry || f.registry === choice.registry);
  if (choice.registry && formats.length === 0) {
    throw new Error(`no file formats for registry "${choice.registry}"; registries with file formats: ${[...new Set(fileFormats().map((f) => f.registry))].join(', ')}`);
  }
  return formats;
}

/** The formats whose required columns a header row has, the one that reads most of its columns first. */
export function fittingFormats(headers: readonly string[], choice: FormatChoice = {}): ColumnMatch[] {
  return candidates(choice).map((f) => matchColumns(f, headers)).filter((m) => m.missing.length === 0)
    .sort((a, b) => b.rename.size - a.rename.size);
}

/** Columns found, as a message shows them: the first 50, each cut at 100 characters, and how many more. */
export function describeColumns(headers: readonly string[]): string {
  const shown = headers.slice(0, 50).map((h) => (h.length > 100 ? `${h.slice(0, 100)}…` : h));
  return `${shown.join(', ')}${headers.length > 50 ? ` … and ${(headers.length - 50).toLocaleString('en-US')} more (${headers.length.toLocaleString('en-US')} in all)` : ''}`;
}

/**
 * The export a file is, from its header row: the format that reads most of its columns among those
 * whose required columns it has, limited to one registry or one format when the user names it. When
 * two read as many, a format's declared `distinguishedBy` is tried on the first row; if that does not
 * settle it, the error names both and asks for `--format`. When none fits, it says what was expected,
 * and which required columns the closest format misses.
 */
export function identifyFormat(headers: readonly string[], choice: FormatChoice = {}, firstRow?: Record<string, string>): ColumnMatch {
  const fitting = fittingFormats(headers, choice);
  const best = fitting.filter((m) => m.rename.size === fitting[0]?.rename.size);
  if (best.length === 1) return best[0]!;
  if (best.length > 1) {
    const value = (m: ColumnMatch) => {
      const header = [...m.rename].find(([, name]) => name === m.format.distinguishedBy?.column)?.[0];
      return header === undefined ? undefined : firstRow?.[header];
    };
    const told = best.filter((m) => m.format.distinguishedBy && m.format.distinguishedBy.pattern.test(value(m) ?? ''));
    if (told.length === 1) return told[0]!;
    throw new Error(`the file's columns fit ${best.map((m) => `${m.format.id} (${m.format.description})`).join(' and ')} equally; name the one it is with --format ${best.map((m) => m.format.id).join(' or --format ')}`);
  }
  const all = candidates(choice).map((f) => matchColumns(f, headers)).sort((a, b) => a.missing.length - b.missing.length || b.rename.size - a.rename.size);
  const closest = all[0];
  const expected = candidates(choice).map((f) => `  ${f.id}: ${f.description}\n    needs columns: ${describeFormatColumns(f)}`).join('\n');
  const near = closest && closest.rename.size > closest.missing.length
    ? `\nclosest: ${closest.format.id} (${closest.format.description}), which also needs ${closest.missing.map((m) => `"${m}"`).join(', ')}` : '';
  throw new Error(`the file's columns match no export Tally knows${choice.registry ? ` for ${choice.registry}` : ''}.\nfound columns: ${describeColumns(headers)}${near}\nexpected one of:\n${expected}`);
}

/**
 * Which connector's API stream a record saved from an API response belongs to (a JSON file given to
 * `tally ingest`). Throws, naming the streams that read JSON, when none or several recognise it.
 */
export function identifyJsonStream(record: Record<string, unknown>, registry?: string): { connector: Connector; stream: ApiStream } {
  const candidates = list.filter((c) => c.api && (!registry || c.registry.id === registry))
    .flatMap((connector) => connector.api!.streams(connector.api!.config.parse({})).map((stream) => ({ connector, stream })));
  const matches = candidates.filter(({ stream }) => stream.recognises?.(record));
  if (matches.length === 1) return matches[0]!;
  const readable = candidates.filter(({ stream }) => stream.recognises).map(({ connector, stream }) => `${connector.registry.id} ${stream.name}`);
  if (matches.length > 1) {
    throw new Error(`the records could be ${matches.map(({ connector, stream }) => `${connector.registry.id} ${stream.name}`).join(' or ')}; name the registry with --registry`);
  }
  throw new Error(`the records match no API response Tally reads (fields: ${Object.keys(record).slice(0, 12).join(', ')}…); JSON files are read as saved responses of: ${readable.join(', ')}`);
}
