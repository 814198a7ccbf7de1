import { platformApi, rawSerialResources } from '../spglobal/platform.ts';
import type { Connector } from '../types.ts';

// The BC Carbon Registry (British Columbia's compliance registry: offset units and earned credits),
// tenant `BCCR` of S&P Global's registry platform. Its standard, read from the platform's own list
// (rb-carbon-scraper docs/api-contract-planvivo.md): `{"id":"140000000000001","name":"BC Carbon
// Registry","metaData":"BC"}`. The id is documented, yet the list is read at every pull all the same:
// it says which reports the standard makes public, and a report the platform does not serve answers a
// generic 500. Not BioCarbon (`biocarbon`), whatever the letters suggest.

const STANDARD_ID = '140000000000001';

export const bcCarbonRegistry: Connector = {
  registry: {
    id: 'bc-carbon-registry',
    name: 'BC Carbon Registry (British Columbia)',
    nameJa: 'ブリティッシュコロンビア州カーボン・レジストリ（BC Carbon Registry）',
    kind: 'compliance',
    serialScheme: 'none',
    url: 'https://www2.gov.bc.ca/gov/content/environment/climate-change/industry/offset-projects/bc-carbon-registry',
  },
  files: [],
  api: platformApi({
    registry: 'bc-carbon-registry',
    tenant: 'BCCR',
    discover: {
      describe: `the BC Carbon Registry standard (${STANDARD_ID})`,
      matches: (standard) => standard.id === STANDARD_ID,
      recognises: (entity) => String(entity.standardId) === STANDARD_ID,
    },
    resources: rawSerialResources('bc-carbon-registry', 'BC Carbon Registry'),
  }),
};
