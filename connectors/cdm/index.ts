import type { Connector } from '../types.ts';
import { parseKyotoSerialRange } from './serial.ts';
import { administrativeCancellations, voluntaryCancellations } from './map-cancellations.ts';
import { issuanceReport } from './map-issuance-report.ts';
import { pipelineIssuances, pipelineProjects } from './map-pipeline.ts';

/**
 * The CDM: file mode for the UNFCCC CDM Registry's public reports (issuances, voluntary and
 * administrative cancellations) and the UNEP-CCC CDM pipeline's project and issuance sheets.
 */
export const cdm: Connector = {
  registry: {
    id: 'cdm',
    name: 'Clean Development Mechanism (CDM) Registry',
    nameJa: 'クリーン開発メカニズム（CDM）登録簿',
    kind: 'un-mechanism',
    serialScheme: 'kyoto',
    url: 'https://cdm.unfccc.int',
    programNames: ['Clean Development Mechanism', 'CDM', 'CER', 'CERs'],
    projectIdPrefix: 'CDM',
    cadTrustName: 'CDM Registry',
    parseSerial: parseKyotoSerialRange,
    // The registry's transactions are issuance and cancellation (voluntary or administrative); what
    // other sources call a retired CER is a voluntary cancellation (connectors/cdm/README.md).
    mirrorStatuses: { retired: 'cancelled' },
  },
  files: [issuanceReport, voluntaryCancellations, administrativeCancellations, pipelineProjects, pipelineIssuances],
};
