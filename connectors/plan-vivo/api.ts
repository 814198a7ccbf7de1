import type { BlockRecord, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { platformApi, platformDate, platformEntity, positive, text } from '../spglobal/platform.ts';
import type { Mapped } from '../types.ts';
import { parsePlanVivoSerial } from './serial.ts';

// Plan Vivo's tenant of the S&P Global registry platform (tenant PVCL, reference/registries.md §0):
// the same report search as Verra. Its records are small enough never to reach the 10,000 window.
// Streams read here are those captured from the live service: projects, issuances and holdings (the
// blocks held in accounts, buffer included); retirements will follow once a capture shows their shape.

const REGISTRY = 'plan-vivo';

function failure(locator: string, field: string, code: string, message: string): Mapped {
  return { records: [], errors: [{ locator, field, code, message: `${locator}: ${field}: ${message}` }] };
}

const projectOf = (e: Record<string, unknown>, id: string): ProjectRecord => ({
  type: 'project',
  registry: REGISTRY,
  registryProjectId: id,
  name: text(e.projectName) ?? text(e.publicProjectName) ?? `Plan Vivo ${id}`,
  country: text(e.countryName) ?? text(e.location)?.split(',')[0],
  eligibility: [],
  coBenefits: [],
});

function mapProject(e: Record<string, unknown>, locator: string): Mapped {
  const id = text(e.projectId);
  if (!id) return failure(locator, 'projectId', 'missing', 'is empty');
  return {
    records: [{
      ...projectOf(e, id),
      proponent: text(e.accountName),
      statusRaw: text(e.status),
      status: text(e.status)?.toLowerCase() === 'active' ? 'registered' : undefined,
      registeredOn: platformDate(e.projectRegistrationDate),
      creditingPeriodStart: platformDate(e.projectStartDate),
      creditingPeriodEnd: platformDate(e.projectEndDate),
    }],
    errors: [],
  };
}

function serialized(e: Record<string, unknown>, locator: string) {
  const id = text(e.projectId) ?? text(e.publicProjectId);
  const quantity = positive(e.holdingQuantity);
  if (!id) return { error: failure(locator, 'projectId', 'missing', 'is empty') };
  if (!quantity) return { error: failure(locator, 'holdingQuantity', 'quantity-not-positive', `${String(e.holdingQuantity)} is not a positive quantity`) };
  const parsed = parsePlanVivoSerial(String(e.serialNo ?? ''));
  if (!parsed.ok) return { error: failure(locator, 'serialNo', 'bad-serial', parsed.error) };
  const serial = parsed.range;
  if (serial.end - serial.start + 1 !== quantity) {
    return { error: failure(locator, 'serialNo', 'serial-quantity-mismatch', `${serial.end - serial.start + 1} units in the serial but the record says ${quantity}`) };
  }
  if (serial.projectId !== id) return { error: failure(locator, 'serialNo', 'serial-project-mismatch', `the serial names project ${serial.projectId} but the record is project ${id}`) };
  return { id, quantity, serial };
}

function mapIssuance(e: Record<string, unknown>, locator: string): Mapped {
  const s = serialized(e, locator);
  if (s.error) return s.error;
  const { id, quantity, serial } = s as Required<Omit<typeof s, 'error'>>;
  const issuance: IssuanceRecord = {
    type: 'issuance',
    registry: REGISTRY,
    registryProjectId: id,
    // An issuance is its serial range: Plan Vivo publishes no batch number.
    issuanceKey: `serial ${serial.raw}`,
    vintageStart: serial.vintageStart,
    vintageEnd: serial.vintageEnd,
    vintageYear: serial.vintageYear,
    issuedOn: platformDate(e.issueDate),
    quantity,
    quantityFromBlocks: false,
    creditType: text(e.unitType)?.toLowerCase(),
    serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
    bufferQuantity: positive(e.unitsIssuedInPermanenceBufferAccount),
    caReserveQuantity: positive(e.unitsIssuedInCorrespondingAdjustmentReserveAccount),
    omgeQuantity: positive(e.omgeQuantity),
    shareOfProceedsQuantity: positive(e.adaptationFundQuantity),
  };
  return { records: [projectOf(e, id), issuance], errors: [] };
}

function mapHolding(e: Record<string, unknown>, locator: string): Mapped {
  const s = serialized(e, locator);
  if (s.error) return s.error;
  const { id, quantity, serial } = s as Required<Omit<typeof s, 'error'>>;
  const block: BlockRecord = {
    type: 'block',
    registry: REGISTRY,
    registryProjectId: id,
    blockKey: serial.raw,
    serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
    quantity,
    vintageStart: serial.vintageStart,
    vintageEnd: serial.vintageEnd,
    vintageYear: serial.vintageYear,
    creditType: text(e.unitType)?.toLowerCase(),
    status: e.isBuffer === true ? 'buffer' : 'held',
    accountHolder: text(e.accountName),
    eligibility: [],
    article6Authorization: text(e.hcloaName),
  };
  return { records: [projectOf(e, id), block], errors: [] };
}

export const planVivoApi = platformApi({
  registry: REGISTRY,
  tenant: 'PVCL',
  standardId: '671000000000001',
  standardAcronym: 'PV',
  resources: [
    { resource: 'project', stream: 'projects', recognises: platformEntity.project, map: mapProject },
    { resource: 'issuances', stream: 'issuances', recognises: platformEntity.issuance, map: mapIssuance },
    { resource: 'holdings', stream: 'holdings', snapshotOf: ['held', 'buffer'], recognises: platformEntity.holding, map: mapHolding },
  ],
});
