import type { BlockRecord, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { entityReader, mapped, type EntityReader } from '../runtime/entity.ts';
import type { SerialRange } from '../runtime/serial.ts';
import { platformApi, platformEntity, positive } from '../spglobal/platform.ts';
import type { Mapped } from '../types.ts';
import { parsePlanVivoSerial } from './serial.ts';

// Plan Vivo's tenant of the S&P Global registry platform (tenant PVCL, reference/registries.md §0):
// the same report search as Verra. Its records are small enough never to reach the 10,000 window.
// Streams read here are those captured from the live service: projects, issuances and holdings (the
// blocks held in accounts, buffer included); retirements will follow once a capture shows their shape.

const REGISTRY = 'plan-vivo';

type Entity = Record<string, unknown>;

const projectOf = (r: EntityReader, id: string): ProjectRecord => ({
  type: 'project',
  registry: REGISTRY,
  registryProjectId: id,
  name: r.text('projectName') ?? r.text('publicProjectName') ?? `Plan Vivo ${id}`,
  country: r.text('countryName') ?? r.text('location')?.split(',')[0],
  eligibility: [],
  coBenefits: [],
});

function mapProject(e: Entity, locator: string): Mapped {
  const r = entityReader(e, locator);
  const id = r.required('projectId', r.text('projectId'));
  if (!id) return { records: [], errors: r.errors };
  const status = r.text('status');
  return mapped(r, [{
    ...projectOf(r, id),
    proponent: r.text('accountName'),
    statusRaw: status,
    status: status?.toLowerCase() === 'active' ? 'registered' : undefined,
    registeredOn: r.date('projectRegistrationDate'),
    creditingPeriodStart: r.date('projectStartDate'),
    creditingPeriodEnd: r.date('projectEndDate'),
  }]);
}

/** What issuances and holdings share: the project, the quantity, and the serial checked against both. */
function serialized(r: EntityReader) {
  const id = r.required('projectId', r.text('projectId') ?? r.text('publicProjectId'));
  const quantity = r.quantity('holdingQuantity');
  const serial = r.serial('serialNo', parsePlanVivoSerial, quantity);
  if (serial && id && serial.projectId !== id) {
    r.fail('serialNo', 'serial-project-mismatch', `the serial names project ${serial.projectId} but the record is project ${id}`);
  }
  return id && quantity !== undefined && serial ? { id, quantity, serial } : undefined;
}

const serialOf = (serial: SerialRange) => ({ numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw });

function mapIssuance(e: Entity, locator: string): Mapped {
  const r = entityReader(e, locator);
  const s = serialized(r);
  if (!s) return { records: [], errors: r.errors };
  const { id, quantity, serial } = s;
  const issuance: IssuanceRecord = {
    type: 'issuance',
    registry: REGISTRY,
    registryProjectId: id,
    // An issuance is its serial range: Plan Vivo publishes no batch number.
    issuanceKey: `serial ${serial.raw}`,
    vintageStart: serial.vintageStart,
    vintageEnd: serial.vintageEnd,
    vintageYear: serial.vintageYear,
    issuedOn: r.date('issueDate'),
    quantity,
    quantityFromBlocks: false,
    creditType: r.text('unitType')?.toLowerCase(),
    serial: serialOf(serial),
    bufferQuantity: positive(r.number('unitsIssuedInPermanenceBufferAccount')),
    caReserveQuantity: positive(r.number('unitsIssuedInCorrespondingAdjustmentReserveAccount')),
    omgeQuantity: positive(r.number('omgeQuantity')),
    shareOfProceedsQuantity: positive(r.number('adaptationFundQuantity')),
  };
  return mapped(r, [projectOf(r, id), issuance]);
}

function mapHolding(e: Entity, locator: string): Mapped {
  const r = entityReader(e, locator);
  const s = serialized(r);
  if (!s) return { records: [], errors: r.errors };
  const { id, quantity, serial } = s;
  const block: BlockRecord = {
    type: 'block',
    registry: REGISTRY,
    registryProjectId: id,
    blockKey: serial.raw,
    serial: serialOf(serial),
    quantity,
    vintageStart: serial.vintageStart,
    vintageEnd: serial.vintageEnd,
    vintageYear: serial.vintageYear,
    creditType: r.text('unitType')?.toLowerCase(),
    status: r.boolean('isBuffer') ? 'buffer' : 'held',
    accountHolder: r.text('accountName'),
    eligibility: [],
    article6Authorization: r.text('hcloaName'),
  };
  return mapped(r, [projectOf(r, id), block]);
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
