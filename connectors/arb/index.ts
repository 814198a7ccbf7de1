import { publishedFiles } from '../runtime/published-file.ts';
import type { Connector } from '../types.ts';
import { ARB } from './columns.ts';
import { arbIssuanceTable } from './map-issuance-table.ts';

/**
 * California Air Resources Board (CARB) offset credits: the published issuance table (CSV, or the
 * workbook as published). No API: a scheduled pull downloads the workbook from the link on CARB's
 * issuance page (the file moves to a new dated folder with each edition).
 */
export const arb: Connector = {
  registry: {
    id: 'arb',
    name: 'California Air Resources Board offsets (CARB)',
    nameJa: 'カリフォルニア州大気資源局（CARB）オフセット',
    kind: 'compliance',
    serialScheme: 'none',
    url: 'https://ww2.arb.ca.gov/our-work/programs/compliance-offset-program',
    programNames: ['California Air Resources Board', 'CARB', 'ARB'],
  },
  files: [arbIssuanceTable],
  api: publishedFiles({
    registry: ARB,
    files: [{
      url: 'https://ww2.arb.ca.gov/our-work/programs/compliance-offset-program/arb-offset-credit-issuance',
      link: /arboc_issuance\.xlsx(\?|$)/i,
      format: arbIssuanceTable,
    }],
  }),
};
