import type { Connector } from '../types.ts';
import { parsePlanVivoSerial } from './serial.ts';
import { planVivoApi } from './api.ts';

/** Plan Vivo: API mode on the S&P Global registry platform (the adapter Verra uses). */
export const planVivo: Connector = {
  registry: {
    id: 'plan-vivo',
    name: 'Plan Vivo',
    nameJa: 'プラン・ヴィーヴォ（Plan Vivo）',
    kind: 'independent',
    serialScheme: 'registry-wide',
    url: 'https://www.planvivo.org',
    programNames: ['Plan Vivo'],
    projectIdPrefix: 'PV',
    parseSerial: parsePlanVivoSerial,
  },
  files: [],
  api: planVivoApi,
};
