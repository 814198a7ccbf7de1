import type { Connector } from '../types.ts';
import { cancellations } from './map-cancellations.ts';
import { issuances } from './map-issuances.ts';
import { projects } from './map-projects.ts';
import { retirements } from './map-retirements.ts';

/** Climate Action Reserve (CAR): file mode for the project, issuance, retirement and cancellation reports. */
export const climateActionReserve: Connector = {
  registry: 'climate-action-reserve',
  name: 'Climate Action Reserve (CAR)',
  files: [projects, issuances, retirements, cancellations],
};
