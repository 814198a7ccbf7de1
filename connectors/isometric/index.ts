import type { Connector } from '../types.ts';
import { isometricApi } from './api.ts';
import { isometricIssuances } from './map-issuances.ts';
import { isometricProjects } from './map-projects.ts';
import { isometricRetirements } from './map-retirements.ts';

/** Isometric: API mode on the registry API (`/registry/v0`, credentials in the config), and file mode for its records flattened (projects, issuances, retirements). */
export const isometric: Connector = {
  registry: 'isometric',
  name: 'Isometric',
  files: [isometricProjects, isometricIssuances, isometricRetirements],
  api: isometricApi,
};
