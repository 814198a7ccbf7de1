import { artGreenTrace } from '../greentrace/platform.ts';
import type { Connector } from '../types.ts';
import { parseArtSerial } from './serial.ts';
import { artCancellations } from './map-cancellations.ts';
import { artIssuances } from './map-issuances.ts';
import { artPrograms } from './map-projects.ts';
import { artRetirements } from './map-retirements.ts';

/** ART TREES: API mode on ICE GreenTrace (tenant ART_REGISTRY), and file mode for the four APX-format reports (programs, issuances, retirements, cancellations). */
export const artTrees: Connector = {
  registry: {
    id: 'art-trees',
    name: 'ART TREES',
    nameJa: 'ART TREES',
    kind: 'independent',
    serialScheme: 'per-issuance',
    url: 'https://www.artredd.org',
    programNames: ['ART', 'TREES', 'Architecture for REDD+ Transactions', 'Architecture for REDD'],
    projectIdPrefix: 'ART',
    parseSerial: parseArtSerial,
  },
  files: [artPrograms, artIssuances, artRetirements, artCancellations],
  api: artGreenTrace,
};
