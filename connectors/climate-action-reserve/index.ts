import type { Connector } from '../types.ts';
import { carApi } from './api.ts';
import { cancellations } from './map-cancellations.ts';
import { issuances } from './map-issuances.ts';
import { projects } from './map-projects.ts';
import { retirements } from './map-retirements.ts';

/** Climate Action Reserve (CAR): the APX report module's CSV export (API mode), and file mode for the same four reports. */
export const climateActionReserve: Connector = {
  registry: 'climate-action-reserve',
  name: 'Climate Action Reserve (CAR)',
  files: [projects, issuances, retirements, cancellations],
  api: carApi,
};
