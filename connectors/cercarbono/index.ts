import type { Connector } from '../types.ts';
import { cercarbonoApi } from './api.ts';
import { cercarbonoIssuances } from './map-issuances.ts';
import { cercarbonoProjects, cercarbonoProjectsReport } from './map-projects.ts';
import { cercarbonoRetirements } from './map-retirements.ts';

/**
 * Cercarbono on the EcoRegistry platform: API mode on EcoRegistry's front API, and file mode for its
 * records flattened (projects with their serials, issued serials, retirements) and for the site's
 * "Projects Report" workbook.
 */
export const cercarbono: Connector = {
  registry: {
    id: 'cercarbono',
    name: 'Cercarbono (EcoRegistry)',
    nameJa: 'セルカルボノ（EcoRegistry）',
    kind: 'independent',
    serialScheme: 'per-issuance',
    url: 'https://www.ecoregistry.io',
    programNames: ['Cercarbono', 'EcoRegistry'],
    cadTrustName: 'EcoRegistry',
  },
  files: [cercarbonoProjects, cercarbonoIssuances, cercarbonoRetirements, cercarbonoProjectsReport],
  api: cercarbonoApi,
};
