import type { UploadFormat } from '../types.ts';
import { isCadtFile } from './v1.ts';
import { isCadtV2File } from './v2.ts';

// CAD Trust's data model as uploads take it (connectors/cad-trust/README.md): a national registry's
// projects and units in the v1 template (a workbook with a sheet per table, or a CSV file per table),
// and v2 records as a v2 node serves them. The files given together are one upload.

export const cadtV1Upload: UploadFormat = {
  id: 'cadt-v1',
  description: 'CAD Trust v1 template: projects, units, issuances, labels… (a workbook, CSV files or one JSON document)',
  recognises: isCadtFile,
};

export const cadtV2Upload: UploadFormat = {
  id: 'cadt-v2',
  description: 'CAD Trust v2 records (JSON, as a v2 node serves them)',
  recognises: isCadtV2File,
};
