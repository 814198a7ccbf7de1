import type { Connector } from '../types.ts';
import { socialCarbonApi } from './api.ts';

/** SocialCarbon: API mode on the registry's Bubble Data API, and its saved responses as files. */
export const socialCarbon: Connector = {
  registry: 'socialcarbon',
  name: 'SocialCarbon',
  files: [],
  api: socialCarbonApi,
};
