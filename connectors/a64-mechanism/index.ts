import type { Connector } from '../types.ts';

/**
 * The Article 6.4 mechanism registry (Paris Agreement Crediting Mechanism). It publishes no feed or
 * export yet: its A6.4ERs arrive as CAD Trust v2 uploads (connectors/cad-trust), read with the levies
 * and authorizations of levies.ts; a CDM activity that transitioned names its CDM project.
 */
export const a64Mechanism: Connector = {
  registry: {
    id: 'a64-mechanism',
    name: 'Article 6.4 Mechanism Registry (PACM)',
    nameJa: 'パリ協定6条4項メカニズム（PACM）登録簿',
    kind: 'un-mechanism',
    serialScheme: 'per-issuance',
    url: 'https://unfccc.int/process-and-meetings/the-paris-agreement/article-64-mechanism',
    programNames: ['Article 6.4', 'A6.4', 'PACM', 'Paris Agreement Crediting Mechanism'],
    cadTrustName: 'Article 6.4 Mechanism Registry',
  },
  files: [],
};
