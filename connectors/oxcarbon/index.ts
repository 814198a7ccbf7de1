import { platformApi, rawSerialResources } from '../spglobal/platform.ts';
import type { Connector } from '../types.ts';

// OxCarbon (OxCarbon credits, OxCs), taken to be tenant `OxCP` of S&P Global's registry platform:
// OxCarbon states that OxCs "are issued, transacted and retired on the IHS Markit Registry, operated by
// S&P Global", whose public view lists its projects and retirements (oxcarbon.org/markit-registry), and
// the platform's app lists a tenant `OxCP` (rb-carbon-scraper settings.py). That OxCP is OxCarbon is
// read from the code, not from a source that says so: the pull reads the platform's list of the
// tenant's standards and reads nothing unless one is named for OxCarbon.

const OURS = /ox\s*carbon/i;

export const oxCarbon: Connector = {
  registry: {
    id: 'oxcarbon',
    name: 'OxCarbon',
    nameJa: 'オックスカーボン（OxCarbon）',
    kind: 'independent',
    serialScheme: 'none',
    url: 'https://oxcarbon.org',
  },
  files: [],
  api: platformApi({
    registry: 'oxcarbon',
    tenant: 'OxCP',
    discover: {
      describe: 'named for OxCarbon',
      matches: (standard) => OURS.test(`${standard.name} ${standard.acronym}`),
      recognises: (entity) => OURS.test(String(entity.standardName ?? '')),
    },
    resources: rawSerialResources('oxcarbon', 'OxCarbon project'),
  }),
};
