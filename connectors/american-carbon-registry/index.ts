import { acrGreenTrace } from '../greentrace/platform.ts';
import type { Connector } from '../types.ts';
import { parseAcrSerial } from './serial.ts';
import { acrCancellations } from './map-cancellations.ts';
import { acrIssuances } from './map-issuances.ts';
import { acrProjects } from './map-projects.ts';
import { acrRetirements } from './map-retirements.ts';

/** American Carbon Registry (ACR): API mode on ICE GreenTrace (tenant ACR_REGISTRY), and file mode for the four APX reports (projects, issuances, retirements, cancellations). */
export const americanCarbonRegistry: Connector = {
  registry: {
    id: 'american-carbon-registry',
    name: 'American Carbon Registry (ACR)',
    nameJa: 'アメリカン・カーボン・レジストリ（ACR）',
    kind: 'independent',
    serialScheme: 'per-issuance',
    url: 'https://acrcarbon.org',
    programNames: ['American Carbon Registry', 'ACR'],
    projectIdPrefix: 'ACR',
    cadTrustName: 'American Carbon Registry (ACR)',
    parseSerial: parseAcrSerial,
  },
  files: [acrProjects, acrIssuances, acrRetirements, acrCancellations],
  api: acrGreenTrace,
};
