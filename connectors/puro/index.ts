import type { Connector } from '../types.ts';
import { puroApi } from './api.ts';
import { PURO } from './map.ts';

/** Puro.earth: API mode on the registry's pages (projects, issuances, retirements, and each project's page to reconcile). No file exports. */
export const puro: Connector = {
  registry: PURO,
  name: 'Puro.earth',
  files: [],
  api: puroApi,
};
