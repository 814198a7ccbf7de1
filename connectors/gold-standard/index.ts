import type { Connector } from '../types.ts';
import { parseGoldStandardSerial } from './serial.ts';
import { goldStandardApi } from './api.ts';
import { issuances } from './map-issuances.ts';
import { projects } from './map-projects.ts';
import { retirements } from './map-retirements.ts';

/** Gold Standard: the public REST API, and file mode for the registry's project, issuance and retirement downloads. */
export const goldStandard: Connector = {
  registry: {
    id: 'gold-standard',
    name: 'Gold Standard',
    nameJa: 'ゴールド・スタンダード',
    kind: 'independent',
    serialScheme: 'per-issuance',
    url: 'https://registry.goldstandard.org',
    programNames: ['Gold Standard', 'GS', 'GS4GG'],
    projectIdPrefix: 'GS',
    cadTrustName: 'Gold Standard',
    parseSerial: parseGoldStandardSerial,
  },
  files: [projects, issuances, retirements],
  api: goldStandardApi,
};
