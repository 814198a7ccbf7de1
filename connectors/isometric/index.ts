import type { Connector } from '../types.ts';
import { isometricApi } from './api.ts';
import { isometricRetiredCredits } from './map-credit-batches.ts';
import { isometricIssuances } from './map-issuances.ts';
import { isometricProjects } from './map-projects.ts';
import { isometricRetirements } from './map-retirements.ts';

/** Isometric: API mode on the registry API (`/registry/v0`, credentials in the config), and file mode for its records flattened (projects, issuances, retirements, and the earlier credit-level retirements). */
export const isometric: Connector = {
  registry: {
    id: 'isometric',
    name: 'Isometric',
    nameJa: 'アイソメトリック（Isometric）',
    kind: 'independent',
    serialScheme: 'none',
    url: 'https://registry.isometric.com',
    programNames: ['Isometric'],
  },
  files: [isometricProjects, isometricIssuances, isometricRetirements, isometricRetiredCredits],
  api: isometricApi,
};
