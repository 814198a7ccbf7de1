import type { BlockRecord, CanonicalInput, ProjectRecord } from '../../schema/canonical.ts';
import { entityReader } from '../runtime/entity.ts';
import { rowReader, tokenizationMarker } from '../runtime/row.ts';
import { quantityMismatch } from '../runtime/serial.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { retiredRange, serialProject } from './serial.ts';
import { named, REGISTRY, retirementPurpose, stated } from './values.ts';

// Cercarbono's retirements, two ways (reference/registries.md §3.6; rb-carbon-scraper
// `docs/api-contract-cercarbono.md`):
// - CarbonPlan's retirement export, from EcoRegistry's public consultation: `project_name, project_id,
//   serial, vintage, certificate_destination, end_user, passive_subject, date, quantity,
//   public_consult, from, to, industry`. It gives the unit range (`from`, `to`) inside the serial's
//   batch, so the block has a serial range (serial.ts: numbering starts at 0 or 1 by batch);
// - EcoRegistry's `analytics/get-retirements` feed: `id, project_id, serial, quantity, date, vintage,
//   is_kg, final_user, country_final_user, reason_using{description}`, no range.
// Quirks:
// - neither names a retirement the other can: the export has no id and the feed no range. Both have
//   the serial, the time to the second and the quantity (`2019-03-07 18:33:46` / `2019-03-07T18:33:46.000Z`),
//   which identify a retirement, so that is the block's key in both and the two sources meet on one block;
// - `certificate_destination` / `reason_using.description` is the use: "Colombian Carbon Tax" (the units
//   offset Colombia's carbon tax: domestic compliance) or "Voluntary compensation". Kept as the reason;
// - the export writes the end user "Not public" when it was hidden (80 of 100 rows), and names the
//   carbon-tax payer who used the units as `passive_subject`: the beneficiary is the end user, else the
//   passive subject. The feed's `final_user` names the party in full even where the export hides it;
// - `vintage` is the serial's vintage year in the export (2015 for CDC_1_1_1_321_14_1, whose period is
//   2010–2018) but a date inside the period in the feed (`2010-01-17`, `2018-12-12`): each source's year is kept;
// - `is_kg` marks a quantity in kilograms (none seen, but the platform has kilogram retirements);
// - the feed covers every standard EcoRegistry hosts; the API stream keeps the standard's projects (api.ts);
// - `industry` is always "Not defined".

/** `2019-03-07 18:33:46`, `2019-03-07T18:33:46.000Z` → `2019-03-07T18:33:46`; a bare date stays a date. */
export function timestampOf(value: string | undefined): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return m[2] === undefined ? m[1] : `${m[1]}T${m[2].padStart(2, '0')}:${m[3]}:${m[4] ?? '00'}`;
}

/** The key both sources give a retirement: serial, time to the second, quantity. */
export const retirementKey = (serial: string, at: string, quantity: number) => `${serial} ${at} ${quantity}`;

export const cercarbonoRetirements: FileFormat = {
  id: 'cercarbono-retirements',
  registry: REGISTRY,
  stream: 'retirements',
  description: 'Cercarbono retirements, EcoRegistry public consultation flattened (project_name, project_id, serial, vintage, certificate_destination, end_user, date, quantity, from, to, …)',
  generation: 'OffsetsDB flattening of EcoRegistry\'s public consultation (2026)',
  // `public_consult` (the project's page) and `industry` (always "Not defined") are not read.
  columns: {
    project_id: { required: true },
    serial: { required: true },
    quantity: { required: true },
    date: { required: true },
    from: {},
    to: {},
    vintage: {},
    certificate_destination: {},
    end_user: {},
    passive_subject: {},
    project_name: {},
  },
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const projectId = r.required('project_id', r.text('project_id'));
    const parsed = serialProject(row.serial);
    if (!parsed.ok) r.fail('serial', 'bad-serial', parsed.error);
    else if (projectId && parsed.projectId !== projectId) {
      r.fail('serial', 'serial-project-mismatch', `the serial names project ${parsed.projectId} but the row is project ${projectId}`);
    }
    const quantity = r.quantity('quantity');
    if (quantity !== undefined && !Number.isInteger(quantity)) r.fail('quantity', 'not-an-integer', `${quantity} is not a whole number of credits`);
    const retiredOn = r.required('date', r.date('date'));
    const at = timestampOf(row.date);
    const vintage = r.number('vintage');
    if (vintage !== undefined && !(Number.isInteger(vintage) && vintage >= 1990 && vintage <= 2100)) r.fail('vintage', 'bad-vintage', `${vintage} is not a year`);
    let range: BlockRecord['serial'];
    // Without the unit range columns, the serial alone, as the feed gives it.
    const unranged = parsed.ok && row.from === undefined && row.to === undefined ? parsed.serial : undefined;
    if (parsed.ok && !unranged) {
      const result = retiredRange(parsed.serial, row.from, row.to);
      if (!result.ok) r.fail('from', 'bad-serial', result.error);
      else {
        const mismatch = quantity === undefined ? undefined : quantityMismatch(result.range, quantity);
        if (mismatch) r.fail('to', 'serial-quantity-mismatch', `units ${result.range.start} to ${result.range.end}: ${mismatch}`);
        else range = result.range;
      }
    }
    const name = stated(row.project_name);
    if (r.errors.length > 0 || !projectId || !parsed.ok || quantity === undefined || !retiredOn || !at || (!range && !unranged)) return { records: [], errors: r.errors };
    const destination = stated(row.certificate_destination);
    const passiveSubject = named(row.passive_subject);
    const beneficiary = named(row.end_user) ?? passiveSubject;
    const details = passiveSubject ? `carbon tax passive subject: ${passiveSubject}` : undefined;
    const block: BlockRecord = {
      type: 'block',
      registry: REGISTRY,
      registryProjectId: projectId,
      blockKey: retirementKey(parsed.serial, at, quantity),
      issuanceKey: parsed.serial,
      serial: range,
      serialRaw: unranged,
      quantity,
      vintageYear: vintage,
      creditType: 'cercarbono-credit',
      status: 'retired',
      statusDate: retiredOn,
      retirementBeneficiary: beneficiary,
      retirementReason: destination,
      retirementPurpose: retirementPurpose(destination),
      retirementDetails: details,
      eligibility: [],
      tokenizationMarker: tokenizationMarker(beneficiary, details),
    };
    const records: CanonicalInput[] = [block];
    // The row names its project: enough to describe it when the project export has not been read.
    if (name) {
      const project: ProjectRecord = { type: 'project', registry: REGISTRY, registryProjectId: projectId, name, eligibility: [], coBenefits: [] };
      records.unshift(project);
    }
    return { records, errors: [] };
  },
};

/** A retirement of EcoRegistry's `analytics/get-retirements` feed. */
export function mapFeedRetirement(e: Record<string, unknown>, locator: string): Mapped {
  const r = entityReader(e, locator, { decode: stated });
  const id = r.required('project_id', r.text('project_id'));
  const projectId = id && /^\d+$/.test(id) ? id : undefined;
  if (id && !projectId) r.fail('project_id', 'missing', `"${id}" is not an EcoRegistry project id`);
  const serial = r.required('serial', r.text('serial'));
  const parsed = serial === undefined ? undefined : serialProject(serial);
  if (parsed && !parsed.ok) r.fail('serial', 'bad-serial', parsed.error);
  else if (parsed && projectId && parsed.projectId !== projectId) {
    r.fail('serial', 'serial-project-mismatch', `the serial names project ${parsed.projectId} but the retirement is project ${projectId}`);
  }
  const units = r.quantity('quantity');
  const quantity = units !== undefined && r.boolean('is_kg') ? units / 1000 : units;
  const date = r.required('date', r.text('date'));
  const at = timestampOf(date);
  if (date && !at) r.fail('date', 'bad-date', `"${date}" is not a date`);
  const reason = r.text('reason_using.description');
  const beneficiary = named(r.text('final_user'));
  const country = r.text('country_final_user');
  const vintage = /^(\d{4})-\d{2}-\d{2}/.exec(r.text('vintage') ?? '')?.[1];
  if (r.errors.length > 0 || !projectId || !parsed?.ok || quantity === undefined || !at) return { records: [], errors: r.errors };
  const details = country ? `final user's country: ${country}` : undefined;
  const block: BlockRecord = {
    type: 'block',
    registry: REGISTRY,
    registryProjectId: String(Number(projectId)),
    blockKey: retirementKey(parsed.serial, at, quantity),
    issuanceKey: parsed.serial,
    serialRaw: parsed.serial,
    quantity,
    vintageYear: vintage ? Number(vintage) : undefined,
    creditType: 'cercarbono-credit',
    status: 'retired',
    statusDate: at.slice(0, 10),
    retirementBeneficiary: beneficiary,
    retirementReason: reason,
    retirementPurpose: retirementPurpose(reason),
    retirementDetails: details,
    eligibility: [],
    tokenizationMarker: tokenizationMarker(beneficiary, details),
  };
  return { records: [block], errors: [] };
}
