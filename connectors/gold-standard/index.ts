import type { Connector } from '../types.ts';
import { goldStandardApi } from './api.ts';
import { issuances } from './map-issuances.ts';
import { projects } from './map-projects.ts';
import { retirements } from './map-retirements.ts';

/** Gold Standard: the public REST API, and file mode for the registry's project, issuance and retirement downloads. */
export const goldStandard: Connector = {
  registry: 'gold-standard',
  name: 'Gold Standard',
  files: [projects, issuances, retirements],
  api: goldStandardApi,
};
