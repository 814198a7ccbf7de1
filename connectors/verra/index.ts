import type { Connector } from '../types.ts';
import { projects2026, projectsLegacy } from './map-projects.ts';
import { verraApi } from './api.ts';
import { vcuExport } from './map-vcu-export.ts';

/** Verra (VCS): the S&P Global platform's report API, and file mode for the VCU export and both project export column sets. */
export const verra: Connector = {
  registry: 'verra',
  name: 'Verra',
  files: [vcuExport, projectsLegacy, projects2026],
  api: verraApi,
};
