import type { Connector } from '../types.ts';
import { parseBioCarbonSerial } from './serial.ts';
import { bioCarbonApi } from './api.ts';

/** BioCarbon Standard: API mode on Global CarbonTrace (its projects and credit ledgers), and its saved responses as files. */
export const bioCarbon: Connector = {
  registry: {
    id: 'biocarbon',
    name: 'BioCarbon Standard',
    nameJa: 'バイオカーボン・スタンダード',
    kind: 'independent',
    serialScheme: 'per-issuance',
    url: 'https://globalcarbontrace.io',
    programNames: ['BioCarbon'],
    parseSerial: parseBioCarbonSerial,
  },
  files: [],
  api: bioCarbonApi,
};
