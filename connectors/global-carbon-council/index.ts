import { platformApi, rawSerialResources } from '../spglobal/platform.ts';
import type { Connector } from '../types.ts';

// The Global Carbon Council (Qatar; Approved Carbon Credits, ACCs), tenant `GCC` of S&P Global's
// registry platform: GCC names "the IHS Markit registry" (now S&P Global) as its carbon registry
// (gcc.globalcarboncouncil.com/projects/fees), and the platform's app lists the tenant code `GCC`
// (rb-carbon-scraper settings.py). No public source gives its standard id, so the pull reads the
// platform's list of the tenant's standards and takes those named for the Global Carbon Council.

const OURS = /global carbon council/i;

export const globalCarbonCouncil: Connector = {
  registry: {
    id: 'global-carbon-council',
    name: 'Global Carbon Council',
    nameJa: 'グローバル・カーボン・カウンシル',
    kind: 'independent',
    serialScheme: 'registry-wide',
    url: 'https://www.globalcarboncouncil.com',
    programNames: ['Global Carbon Council', 'GCC'],
    projectIdPrefix: 'GCC',
    cadTrustName: 'Global Carbon Council',
  },
  files: [],
  api: platformApi({
    registry: 'global-carbon-council',
    tenant: 'GCC',
    discover: {
      describe: 'named for the Global Carbon Council',
      matches: (standard) => OURS.test(standard.name),
      recognises: (entity) => OURS.test(String(entity.standardName ?? '')),
    },
    resources: rawSerialResources('global-carbon-council', 'GCC project'),
  }),
};
