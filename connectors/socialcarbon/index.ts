import type { Connector } from '../types.ts';
import { parseSocialCarbonSerial } from './serial.ts';
import { socialCarbonApi } from './api.ts';

/** SocialCarbon: API mode on the registry's Bubble Data API, and its saved responses as files. */
export const socialCarbon: Connector = {
  registry: {
    id: 'socialcarbon',
    name: 'SocialCarbon',
    nameJa: 'ソーシャルカーボン',
    kind: 'independent',
    serialScheme: 'per-issuance',
    url: 'https://www.socialcarbon.org',
    programNames: ['SocialCarbon', 'Social Carbon'],
    parseSerial: parseSocialCarbonSerial,
  },
  files: [],
  api: socialCarbonApi,
};
