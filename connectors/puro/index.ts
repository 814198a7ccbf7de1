import type { Connector } from '../types.ts';
import { parsePuroCertificate } from './certificate.ts';
import { puroApi } from './api.ts';

/** Puro.earth: API mode on the registry's pages (projects, issuances, retirements, and each project's page to reconcile). No file exports. */
export const puro: Connector = {
  registry: {
    id: 'puro',
    name: 'Puro.earth',
    nameJa: 'Puro.earth',
    kind: 'independent',
    serialScheme: 'per-issuance',
    url: 'https://registry.puro.earth',
    programNames: ['Puro', 'Puro.earth'],
    parseSerial: parsePuroCertificate,
  },
  files: [],
  api: puroApi,
};
