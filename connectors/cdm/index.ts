import type { Connector } from '../types.ts';
import { administrativeCancellations, voluntaryCancellations } from './map-cancellations.ts';
import { issuanceReport } from './map-issuance-report.ts';
import { pipelineIssuances, pipelineProjects } from './map-pipeline.ts';

/**
 * The CDM: file mode for the UNFCCC CDM Registry's public reports (issuances, voluntary and
 * administrative cancellations) and the UNEP-CCC CDM pipeline's project and issuance sheets.
 */
export const cdm: Connector = {
  registry: 'cdm',
  name: 'CDM Registry (UNFCCC) and UNEP-CCC CDM pipeline',
  files: [issuanceReport, voluntaryCancellations, administrativeCancellations, pipelineProjects, pipelineIssuances],
};
