import type { Connector } from '../types.ts';
import { parseCarSerial } from './serial.ts';
import { carApi } from './api.ts';
import { cancellations } from './map-cancellations.ts';
import { issuances } from './map-issuances.ts';
import { projects } from './map-projects.ts';
import { retirements } from './map-retirements.ts';

/** Climate Action Reserve (CAR): the APX report module's CSV export (API mode), and file mode for the same four reports. */
export const climateActionReserve: Connector = {
  registry: {
    id: 'climate-action-reserve',
    name: 'Climate Action Reserve (CAR)',
    nameJa: 'クライメート・アクション・リザーブ（CAR）',
    kind: 'independent',
    serialScheme: 'per-issuance',
    url: 'https://www.climateactionreserve.org',
    programNames: ['Climate Action Reserve', 'CAR'],
    projectIdPrefix: 'CAR',
    cadTrustName: 'Climate Action Reserve (CAR)',
    parseSerial: parseCarSerial,
  },
  files: [projects, issuances, retirements, cancellations],
  api: carApi,
};
