import { publishedFiles } from '../runtime/published-file.ts';
import type { Connector } from '../types.ts';
import { jCreditCertifications } from './map-certifications.ts';
import { jCreditInvalidations } from './map-invalidations.ts';
import { jCreditProjects } from './map-projects.ts';

/**
 * The J-Credit Scheme (J-クレジット制度), file mode: the registered-project list (which also carries the
 * legacy 国内クレジット and J-VER projects, written to those programmes), and certification and
 * invalidation lists a holder uploads. No public API: a scheduled pull downloads the project list's
 * workbook from the link on the scheme's project page (its file name changes with each update).
 */
export const jCredit: Connector = {
  registry: {
    id: 'j-credit',
    name: 'J-Credit Scheme',
    nameJa: 'J-クレジット制度',
    kind: 'national',
    serialScheme: 'none',
    url: 'https://japancredit.go.jp',
    programNames: ['J-Credit', 'J-クレジット'],
  },
  otherRegistries: [{
    id: 'japan-domestic-credit',
    name: 'Domestic Credit Scheme (Japan, merged into J-Credit in 2013)',
    nameJa: '国内クレジット制度',
    kind: 'national',
    serialScheme: 'none',
    url: 'https://japancredit.go.jp',
  }, {
    id: 'j-ver',
    name: 'Offset Credit (J-VER) Scheme (Japan, merged into J-Credit in 2013)',
    nameJa: 'オフセット・クレジット（J-VER）制度',
    kind: 'national',
    serialScheme: 'none',
    url: 'http://j-ver.go.jp',
  }],
  files: [jCreditProjects, jCreditCertifications, jCreditInvalidations],
  api: publishedFiles({
    registry: 'j-credit',
    files: [{ url: 'https://japancredit.go.jp/project/', link: /\.xlsx(\?|$)/i, format: jCreditProjects }],
  }),
};
