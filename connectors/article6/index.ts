import type { UploadFormat } from '../types.ts';
import { isAefFile } from './aef.ts';

/** An Article 6.2 AEF submission: its tables (T1–T5 and the adjustments applied), read as one upload. */
export const aefUpload: UploadFormat = {
  id: 'article6-aef',
  description: 'Article 6.2 AEF submission: its tables as one workbook (CAD Trust field names, or the official 2024 or current AEF layout), CSV files or a JSON document',
  recognises: isAefFile,
};
