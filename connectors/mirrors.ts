import type { CanonicalInput } from '../schema/canonical.ts';
import { mirrorStatus, sourceOfRecord } from './index.ts';
import type { Mapped, RowError } from './types.ts';

// Mirrors (DESIGN §3, "Sources of record and mirrors"). A source other than a registry's own files or
// API that reports the registry's units — CAD Trust's data layer, an organization's upload of the
// registry's export — is a mirror: its projects and units become mirror records, evidence beside the
// units of record that never adds tonnes. Records of registries that publish through uploads only
// (national registries, the Article 6.4 mechanism) stay records of their own: the upload is their source.

/**
 * One row's records with those of mirrored registries turned into `reportedBy`'s mirror records: a
 * project into the source's description of it, a unit block into its report of the units. Issuances,
 * events, labels and stated totals of a mirrored registry are the registry's to state: they stay in the
 * raw record only, with a warning for a label (it names units Tally does not hold from this source).
 */
export function asMirrors(mapped: Mapped, locator: string, reportedBy: string): Mapped {
  const warnings: RowError[] = [...mapped.warnings ?? []];
  const records = mapped.records.flatMap((record): CanonicalInput[] => {
    if (record.type === 'mirror' || sourceOfRecord(record.registry) === 'uploads') return [record];
    switch (record.type) {
      case 'project':
        return [{
          type: 'mirror', registry: record.registry, reportedBy, mirrorKey: `project:${record.registryProjectId}`, kind: 'project',
          projectRef: record.registryProjectId, projectName: record.nameIsIdentifier ? undefined : record.name, country: record.country ?? undefined,
        }];
      case 'block':
        return [{
          type: 'mirror', registry: record.registry, reportedBy, mirrorKey: record.blockKey, kind: 'units',
          projectRef: record.registryProjectId, serial: record.serial, quantity: record.quantity, vintageYear: record.vintageYear,
          creditType: record.creditType, status: mirrorStatus(record.registry, record.status), statusDate: record.statusDate,
        }];
      case 'label':
        warnings.push({ locator, code: 'mirrored-label', message: `${locator}: label "${record.label}" covers units of ${record.registry}, whose own data is their record; kept in the raw record only` });
        return [];
      default:
        return [];
    }
  });
  return { records, errors: mapped.errors, ...(warnings.length > 0 ? { warnings } : {}) };
}
