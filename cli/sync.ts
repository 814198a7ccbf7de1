import { parseArgs } from 'node:util';
import type { DatabaseHandle } from '../schema/database.ts';
import { printSummary } from './output.ts';
import { BatchRejected } from '../jobs/ingest.ts';
import { readSources } from '../jobs/scheduler.ts';
import { HttpClient } from '../connectors/runtime/http.ts';
import { apiConnector, sourceConfig, syncSource } from '../jobs/sync.ts';

// `tally sync <registry> [--check]`: pulls one registry's API now, as one batch, under the same lock the
// scheduler takes. Its configuration comes from the TALLY_SOURCES file when that file lists the
// registry, else from the connector's defaults.

export const syncUsage = `usage: tally sync <registry> [--check]

  --check    only ask the registry whether it answers as expected, and store nothing
  --errors <n>  how many row errors to print (default 20)`;

export async function syncCommand(handle: DatabaseHandle, argv: string[], sourcesFile: string | undefined): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { check: { type: 'boolean', default: false }, errors: { type: 'string', default: '20' } },
  });
  const [registry] = positionals;
  if (!registry || positionals.length > 1) {
    console.error(syncUsage);
    return 2;
  }
  const configured = sourcesFile ? readSources(sourcesFile).find((s) => s.registry === registry) : undefined;
  const connector = apiConnector(registry);

  if (values.check) {
    const config = sourceConfig(connector, configured?.config);
    const http = new HttpClient(connector.api.http(config));
    try {
      console.log(await connector.api.check(http, config));
      return 0;
    } catch (error) {
      console.error(`${registry}: not reachable as expected: ${(error as Error).message}`);
      return 1;
    } finally {
      await http.close();
    }
  }

  let rowsSeen = 0;
  const ticker = process.stderr.isTTY ? setInterval(() => process.stderr.write(`\r${registry}: ${rowsSeen} records pulled`), 500) : undefined;
  try {
    const outcome = await handle.withLock(`sync:${registry}`, async () => {
      try {
        return await syncSource(handle.db, registry, { config: configured?.config, onProgress: ({ rowsRead }) => { rowsSeen = rowsRead; } });
      } catch (error) {
        if (error instanceof BatchRejected) return error.summary;
        throw error;
      }
    });
    if (ticker) process.stderr.write('\n');
    if (!outcome) {
      console.error(`${registry}: another sync of this registry is running; nothing done`);
      return 1;
    }
    printSummary(`${registry} API`, `${registry}-api`, outcome, Number(values.errors));
    return outcome.status === 'committed' ? 0 : 1;
  } finally {
    clearInterval(ticker);
  }
}
