import type { Connector } from '../types.ts';
import { bioCarbonApi } from './api.ts';

/** BioCarbon Standard: API mode on Global CarbonTrace (its projects and credit ledgers), and its saved responses as files. */
export const bioCarbon: Connector = {
  registry: 'biocarbon',
  name: 'BioCarbon Standard',
  files: [],
  api: bioCarbonApi,
};
