import { platformApi, rawSerialResources } from '../spglobal/platform.ts';
import type { Connector } from '../types.ts';

// The UK Land Carbon Registry, tenant `UKLR` of S&P Global's registry platform: the registry of the
// Woodland Carbon Code and the Peatland Code ("managed by S&P Global",
// woodlandcarboncode.org.uk/uk-land-carbon-registry). One registry, two standards: the pull reads the
// platform's list of the tenant's standards (no public source gives their ids) and reads every one
// named for either code, each with its own headers.
//
// Both codes issue Pending Issuance Units (PIUs) at validation, a "promise to deliver" that cannot be
// retired, and convert them to Woodland or Peatland Carbon Units at verification. The platform's
// `unitType` / `unitClass` is kept as the credit type, so the two can be told apart; no capture shows
// how this tenant spells them.

const OURS = /woodland carbon|peatland/i;

export const ukLandCarbonRegistry: Connector = {
  registry: {
    id: 'uk-land-carbon-registry',
    name: 'UK Land Carbon Registry (Woodland Carbon Code, Peatland Code)',
    nameJa: '英国土地炭素レジストリ（ウッドランド・カーボン・コード、ピートランド・コード）',
    kind: 'national',
    serialScheme: 'none',
    url: 'https://woodlandcarboncode.org.uk/uk-land-carbon-registry',
  },
  files: [],
  api: platformApi({
    registry: 'uk-land-carbon-registry',
    tenant: 'UKLR',
    discover: {
      describe: 'named for the Woodland Carbon Code or the Peatland Code',
      matches: (standard) => OURS.test(standard.name),
      recognises: (entity) => OURS.test(String(entity.standardName ?? '')),
    },
    resources: rawSerialResources('uk-land-carbon-registry', 'UK Land Carbon Registry project'),
  }),
};
