import type { Connector } from '../types.ts';
import { planVivoApi } from './api.ts';

/** Plan Vivo: API mode on the S&P Global registry platform (the adapter Verra uses). */
export const planVivo: Connector = {
  registry: 'plan-vivo',
  name: 'Plan Vivo',
  files: [],
  api: planVivoApi,
};
