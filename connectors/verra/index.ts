import type { Connector } from '../types.ts';
import { parseVerraSerial } from './serial.ts';
import { projectExport } from './map-projects.ts';
import { verraApi } from './api.ts';
import { vcuExport } from './map-vcu-export.ts';

/** Verra (VCS): the S&P Global platform's report API, and file mode for the VCU export and both project export column sets. */
export const verra: Connector = {
  registry: {
    id: 'verra',
    name: 'Verra (Verified Carbon Standard)',
    nameJa: 'Verra（VCS）',
    kind: 'independent',
    serialScheme: 'registry-wide',
    url: 'https://registry.verra.org',
    programNames: ['Verra', 'VCS', 'Verified Carbon Standard'],
    projectIdPrefix: 'VCS',
    cadTrustName: 'Verra',
    parseSerial: parseVerraSerial,
  },
  files: [vcuExport, projectExport],
  api: verraApi,
};
