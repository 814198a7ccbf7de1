import type { Connector } from '../types.ts';
import { jcmIssuances } from './map-issuances.ts';
import { jcmProjects } from './map-projects.ts';

/**
 * The Joint Crediting Mechanism (JCM, 二国間クレジット制度), file mode: the project list of all partner
 * countries and the issuance tables, with the partner's and Japan's allocations as separate issuances
 * and each Japan allocation a first transfer of the host Party. No API: jcm.go.jp publishes HTML pages
 * and a project CSV, Japan's JCM registry PDFs only.
 */
export const jcm: Connector = {
  registry: {
    id: 'jcm',
    name: 'Joint Crediting Mechanism (JCM)',
    nameJa: '二国間クレジット制度（JCM）',
    kind: 'bilateral',
    serialScheme: 'none',
    url: 'https://www.jcm.go.jp',
    programNames: ['Joint Crediting Mechanism', 'JCM'],
    cadTrustName: 'Joint Crediting Mechanism',
  },
  files: [jcmProjects, jcmIssuances],
};
