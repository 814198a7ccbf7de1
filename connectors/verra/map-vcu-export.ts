import type { CanonicalInput } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader, tokenizationMarker } from '../runtime/row.ts';
import { parseVerraSerial } from './serial.ts';

// Verra's VCU search export (registry.verra.org, "VCUs" → Export CSV): one row per serial block.
// Quirks (reference/registries.md §1.3, offsetsdb.md §2.1):
// - an empty `Retirement/Cancellation Date` means the block is still held; a date means retired OR
//   cancelled, and this export does not say which: we record `retired` and keep the raw columns;
// - issuance is rolling and not published per event (`Total Vintage Quantity` repeats the whole
//   project-vintage total on every row). A block keeps the batch number of the issuance it came from
//   (the serial's first token), so the issuance is that batch: the sum of its blocks, dated by the
//   earliest `Issuance Date`. The API's issuances carry the same batch number, so both modes meet;
// - a block's vintage year is the year its vintage starts (the serial says the same);
// - quantities are formatted ("1,454,054"); dates are ISO, or DD/MM/YYYY in older downloads;
// - `Additional Certifications` lists labels separated by ";": the CORSIA phases and the ICVCM CCP
//   label become eligibility codes, the "Article 6 Authorized – NDC Use / Intl mitigation purposes /
//   Other purposes" labels the block's Article 6 authorization (the labels as written: the export names
//   no Letter of Authorization), and the CCB / SD VISta labels are not eligibility and are left raw.

/** Eligibility codes and the Article 6 authorization a block's `Additional Certifications` state. */
export function verraCertifications(value: string | undefined): { eligibility: string[]; article6Authorization?: string } {
  const labels = (value ?? '').split(';').map((l) => l.trim()).filter(Boolean);
  const eligibility = [...new Set(labels.flatMap((l) => (/^CORSIA\b.*first phase/i.test(l) ? ['corsia-first-phase']
    : /^CORSIA\b.*pilot phase/i.test(l) ? ['corsia-pilot-phase'] : /\bICVCM CCP\b|^CCP\b/i.test(l) ? ['ccp-approved'] : [])))];
  const article6 = labels.filter((l) => /^Article 6 Authorized/i.test(l));
  return { eligibility, ...(article6.length > 0 ? { article6Authorization: article6.join('; ') } : {}) };
}

const UIAPI = 'registry search API fields (2020–2026)';

export const vcuExport: FileFormat = {
  id: 'verra-vcu-export',
  registry: 'verra',
  stream: 'vcu-blocks',
  description: 'Verra VCU export (one row per serial block)',
  generation: 'VCU search export (2020–2026)',
  // The serial number carries the project, vintage and units; the retirement date whether units are held.
  // Files saved from the registry's own search API (`registry.verra.org/uiapi/asset/asset/search`) have
  // its field names as columns; an older workbook named the quantity `Credits Quantity Issued`.
  columns: {
    'Issuance Date': { aliases: { issuanceDate: UIAPI } },
    'Vintage Start': { aliases: { vintageStart: UIAPI } },
    'Vintage End': { aliases: { vintageEnd: UIAPI } },
    ID: { required: true, aliases: { resourceIdentifier: UIAPI } },
    Name: { aliases: { resourceName: UIAPI } },
    'Country/Area': { aliases: { Country: 'VCU workbook (before 2022)', country: UIAPI } },
    Methodology: { aliases: { protocol: UIAPI } },
    // The whole vintage's issuance as Verra states it, repeated on each of its rows: read as a stated
    // total (jobs/reconcile.ts), since a file may list only some of the vintage's blocks.
    'Total Vintage Quantity': {},
    'Quantity Issued': { required: true, aliases: { 'Credits Quantity Issued': 'VCU workbook (before 2022)', quantity: UIAPI } },
    'Serial Number': { required: true, aliases: { serialNumbers: UIAPI } },
    'Additional Certifications': { aliases: { additionalCertifications: UIAPI } },
    'Retirement/Cancellation Date': { required: true, aliases: { retireOrCancelDate: UIAPI } },
    'Retirement Beneficiary': { aliases: { retirementBeneficiary: UIAPI } },
    'Retirement Reason': { aliases: { retirementReason: UIAPI } },
    'Retirement Details': { aliases: { retirementDetails: UIAPI } },
  },
  dayFirst: true,
  map(row, locator): Mapped {
    const r = rowReader(row, locator, { dayFirst: true });
    const projectId = r.required('ID', r.text('ID'));
    const name = r.text('Name');
    const quantity = r.quantity('Quantity Issued');
    const serial = r.serial('Serial Number', parseVerraSerial, quantity);
    const vintageStart = r.date('Vintage Start');
    const vintageEnd = r.date('Vintage End');
    const issuedOn = r.date('Issuance Date');
    const closedOn = r.date('Retirement/Cancellation Date');
    if (serial?.projectId && projectId && serial.projectId !== projectId.replace(/^0+/, '')) {
      r.fail('Serial Number', 'serial-project-mismatch', `the serial names project ${serial.projectId} but the row is project ${projectId}`);
    }
    if (r.errors.length > 0 || !projectId || !quantity || !serial) return { records: [], errors: r.errors };

    const issuanceKey = `batch ${serial.raw.split('-')[0]}`;
    const beneficiary = r.text('Retirement Beneficiary');
    const details = r.text('Retirement Details');
    const certifications = verraCertifications(r.text('Additional Certifications'));
    const records: CanonicalInput[] = [
      {
        type: 'project',
        registry: 'verra',
        registryProjectId: projectId,
        ...(name ? { name } : { name: `VCS ${projectId}`, nameIsIdentifier: true }),
        country: r.text('Country/Area'),
        methodology: r.text('Methodology'),
        registryUrl: `https://registry.verra.org/app/projectDetail/VCS/${projectId}`,
      },
      {
        type: 'issuance',
        registry: 'verra',
        registryProjectId: projectId,
        issuanceKey,
        vintageStart,
        vintageEnd,
        vintageYear: vintageStart ? Number(vintageStart.slice(0, 4)) : serial.vintageYear,
        issuedOn,
        quantity,
        quantityFromBlocks: true,
        creditType: 'vcu',
      },
      {
        type: 'block',
        registry: 'verra',
        registryProjectId: projectId,
        blockKey: serial.raw,
        issuanceKey,
        serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
        quantity,
        vintageStart,
        vintageEnd,
        vintageYear: vintageStart ? Number(vintageStart.slice(0, 4)) : serial.vintageYear,
        creditType: 'vcu',
        status: closedOn ? 'retired' : 'held',
        statusDate: closedOn,
        retirementBeneficiary: beneficiary,
        retirementReason: r.text('Retirement Reason'),
        retirementDetails: details,
        tokenizationMarker: closedOn ? tokenizationMarker(beneficiary, details) : undefined,
        eligibility: certifications.eligibility,
        article6Authorization: certifications.article6Authorization,
      },
    ];
    const vintageTotal = r.number('Total Vintage Quantity');
    if (vintageTotal !== undefined && vintageStart && vintageEnd) {
      records.push({
        type: 'stated', registry: 'verra', registryProjectId: projectId, vintageYear: Number(vintageStart.slice(0, 4)), vintageStart, vintageEnd,
        measure: 'issued', quantity: vintageTotal, statedAs: 'Total Vintage Quantity',
      });
    }
    return { records, errors: [] };
  },
};
