import type { BlockRecord, CanonicalInput, IssuanceRecord, OtherProgramRecord, ProjectRecord } from '../../schema/canonical.ts';
import type { z } from 'zod';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { textValue } from '../runtime/values.ts';
import { ARB, ARB_PROJECT_ID, DISPOSAL_COLUMNS, disposalColumns, oprIdsInComment, oprProgram, protocolOfProjectType } from './columns.ts';

// CARB's "ARB Offset Credit Issuance" table (the workbook nc-arboc_issuance.xlsx; the table is its
// fourth sheet, which OffsetsDB reads as `sheet_name=3`): one row per reporting period of a compliance
// offset project. Quirks:
// - ARB issues no serials and publishes no transactions: each row states, for the issuance on it, how
//   many credits were issued and running totals of how many were retired per purpose (voluntarily, per
//   California compliance period, for Québec), retired for reversals, and invalidated. The issuance is
//   an issuance; each non-zero total is one block without a serial, keyed `<CARB Issuance ID>/<what>`,
//   so a later edition of the table updates the same block instead of adding one;
// - no retirement has a date (OffsetsDB assigns each compliance period a surrender deadline; Tally does
//   not guess): the blocks have no status date;
// - `ARB Offset Credits Issued` is GROSS: for forest projects it includes the `Forest Buffer Account
//   Contribution` (CAFR5003-A: 1,748,472 retired + 415,479 buffer = 2,163,951 issued), as ACR's and CAR's
//   issued figures do; the contribution is the issuance's `bufferQuantity`;
// - `OPR Project ID` is the project in the Offset Project Registry (ACR, CAR, Verra) whose credits CARB
//   converted: ACR and CAR cancel them "Convert to ARB offset credits" and CARB issues ARBOCs. It is
//   declared as `otherPrograms` (relation `converted-from`), which the project-link job turns into a
//   `converted-to` link from the OPR project. A project can move OPR between reporting periods
//   (CAMM1009: ACR1009, then CAR2111): see `previous` below. A `Comment` can name one more;
// - a reporting period with no issuance (zero credits, `reforest defer`, or only an `Intentional
//   Reversal`) keeps its project and yields nothing else;
// - the workbook writes numbers as numbers; the CSV copies went through pandas (`79565.0`, `2024.0`);
// - the country is not in the table: ARB's protocols cover projects in the United States, the `State`
//   column says where.

const ID = 'CARB Project ID';
const OPR = 'OPR Project ID';
const ISSUED = 'ARB Offset Credits Issued';
const ISSUANCE_ID = 'CARB Issuance ID';
const BUFFER = 'Forest Buffer Account Contribution';
const NAME = 'Offset Project Name';

type OtherProgram = z.input<typeof OtherProgramRecord>;

/**
 * The columns the mapper reads. An issuance needs its project, figure, id, vintage and date; the
 * disposal columns (columns.ts) are running totals, read where the table has them. A compliance period
 * the table adds later (`Retired 6th Compliance Period (CA)`) is read by its name's pattern, and listed
 * among the batch's unread columns until it is named here.
 */
const ARB_COLUMNS: FileFormat['columns'] = {
  [ID]: { required: true },
  [ISSUED]: { required: true },
  [ISSUANCE_ID]: { required: true },
  Vintage: { required: true },
  'Issuance Date': { required: true },
  [NAME]: {},
  [OPR]: {},
  'Offset Project Operator': {},
  State: {},
  'Project Type': {},
  Comment: {},
  'Reporting Period Start Date': {},
  'Reporting Period End Date': {},
  [BUFFER]: {},
  ...Object.fromEntries(DISPOSAL_COLUMNS.map((column) => [column, {}])),
};

/**
 * Rows that are not a reporting period: a total row, or a note or title in one cell (below or above
 * the table in the published workbook). They are skipped, not errors.
 */
function isNotARecord(row: Record<string, string>): boolean {
  const id = textValue(row[ID]);
  if (id && /^(grand\s+)?totals?\b/i.test(id)) return true;
  if (!id) return !textValue(row[OPR]) && !textValue(row[NAME]);
  const filled = Object.values(row).filter((v) => textValue(v) !== undefined).length;
  return !ARB_PROJECT_ID.test(id) && filled === 1;
}

/** `line 12` / `sheet "ARBOC" row 12` → its prefix and number, to tell whether two rows are neighbours. */
function position(locator: string): { prefix: string; n: number } | undefined {
  const m = /^(.*?)(\d+)$/.exec(locator);
  return m ? { prefix: m[1]!, n: Number(m[2]) } : undefined;
}

function issuanceTable(): FileFormat {
  // The OPR ids of the run of rows of one project just mapped. The table lists a project's reporting
  // periods one after another, and projects merge field by field (the last row's `otherPrograms` wins),
  // so each row declares the OPR ids of the project's earlier rows as well as its own: the last row of
  // the run declares them all. A run is joined only while the rows come one after another from one file
  // (the same locator form, increasing line or row numbers: a multi-line cell makes lines skip), so a new
  // file starts afresh.
  let previous: { prefix: string; n: number; project: string; programs: OtherProgram[] } | undefined;

  return {
    id: 'arb-issuance-table',
    registry: ARB,
    stream: 'issuances',
    description: 'California ARB offset credit issuance table (nc-arboc_issuance.xlsx: CARB Project ID, OPR Project ID, ARB Offset Credits Issued, CARB Issuance ID, Retired …)',
    generation: 'ARB Offset Credit Issuance table (nc-arboc_issuance.xlsx, as CarbonPlan read it in 2026)',
    columns: ARB_COLUMNS,
    map(row, locator): Mapped {
      if (isNotARecord(row)) return { records: [], errors: [] };
      const r = rowReader(row, locator);
      const projectId = r.required(ID, r.text(ID));
      const wellFormed = projectId !== undefined && ARB_PROJECT_ID.test(projectId);
      if (projectId && !wellFormed) {
        r.fail(ID, 'bad-project-id', `"${projectId}" is not a CARB project id (expected CA, two or three letters and a number, e.g. CAOD1007)`);
      }
      const name = r.text(NAME);
      const opr = r.text(OPR);

      // `reforest defer`: a reforestation project deferring issuance; no credits on this row.
      const deferred = /^reforest defer/i.test(r.text(ISSUED) ?? '');
      const issued = deferred ? undefined : r.number(ISSUED);
      if (issued !== undefined && issued < 0) r.fail(ISSUED, 'quantity-negative', `${issued} is negative`);
      const hasIssuance = issued !== undefined && issued > 0;
      const issuanceId = r.text(ISSUANCE_ID);
      if (hasIssuance && !issuanceId) r.fail(ISSUANCE_ID, 'missing', `is empty, but the row issues ${issued} credits`);
      if (issuanceId && wellFormed && !issuanceId.toUpperCase().startsWith(projectId.toUpperCase())) {
        r.fail(ISSUANCE_ID, 'issuance-project-mismatch', `"${issuanceId}" is not an issuance of project ${projectId}`);
      }
      const vintage = r.number('Vintage');
      if (vintage !== undefined && !(Number.isInteger(vintage) && vintage >= 1990 && vintage <= 2100)) r.fail('Vintage', 'bad-vintage', `${vintage} is not a year`);
      if (hasIssuance) r.required('Vintage', vintage);
      const issuedOn = r.date('Issuance Date');
      if (hasIssuance) r.required('Issuance Date', issuedOn);
      const buffer = r.number(BUFFER);
      if (buffer !== undefined && (buffer < 0 || (issued !== undefined && buffer > issued))) {
        r.fail(BUFFER, 'bad-buffer', `${buffer} is not between 0 and the ${issued ?? 0} credits issued, which include it`);
      }

      const disposals = disposalColumns(Object.keys(row)).flatMap((d) => {
        const quantity = r.number(d.column);
        if (quantity === undefined || quantity === 0) return [];
        if (quantity < 0 || !Number.isInteger(quantity)) {
          r.fail(d.column, 'bad-quantity', `${quantity} is not a whole, non-negative number of credits`);
          return [];
        }
        return [{ ...d, quantity }];
      });
      const disposed = disposals.reduce((s, d) => s + d.quantity, 0);
      if (disposed > 0 && !hasIssuance) {
        r.fail(ISSUED, 'no-issuance', `${deferred ? 'defers issuance' : issued === undefined ? 'is empty' : `is ${issued}`}, but the row retires or invalidates ${disposed} credits`);
      } else if (issued !== undefined && disposed > issued) {
        r.fail(ISSUED, 'disposed-exceeds-issued', `${issued} credits issued, but the row retires or invalidates ${disposed}`);
      }
      const bufferRetired = disposals.find((d) => d.key === 'buffer-retired')?.quantity ?? 0;
      if (bufferRetired > (buffer ?? 0)) {
        r.fail('Buffer Pool Retired', 'buffer-retired-exceeds-contribution', `${bufferRetired} buffer credits retired, but the issuance put ${buffer ?? 0} into the Forest Buffer Account`);
      }
      if (r.errors.length > 0 || !projectId) {
        if (projectId) declaredPrograms(projectId, locator, []); // a rejected row declares nothing, but keeps the run going
        return { records: [], errors: r.errors };
      }

      const project: ProjectRecord = {
        type: 'project',
        registry: ARB,
        registryProjectId: projectId,
        // A row without the project's name still states its issuance: the project is known by its id.
        ...(name ? { name } : { name: `ARB ${projectId}`, nameIsIdentifier: true }),
        proponent: r.text('Offset Project Operator'),
        country: 'US',
        region: r.text('State'),
        methodology: protocolOfProjectType(r.text('Project Type')),
        eligibility: [],
        coBenefits: [],
      };
      const programs = declaredPrograms(projectId, locator, [
        ...(opr ? [oprProgram(opr, OPR)] : []),
        ...oprIdsInComment(r.text('Comment')).map((id) => oprProgram(id, 'Comment')),
      ]);
      if (programs.length > 0) project.otherPrograms = programs;
      const records: CanonicalInput[] = [project];
      if (!hasIssuance || !issuanceId || vintage === undefined) return { records, errors: [] };

      const issuance: IssuanceRecord = {
        type: 'issuance',
        registry: ARB,
        registryProjectId: projectId,
        issuanceKey: issuanceId,
        // The reporting period the credits were issued for (it can start in the year before the vintage).
        vintageStart: r.date('Reporting Period Start Date'),
        vintageEnd: r.date('Reporting Period End Date'),
        vintageYear: vintage,
        issuedOn,
        quantity: issued,
        quantityFromBlocks: false,
        creditType: 'arboc',
        bufferQuantity: buffer,
      };
      records.push(issuance);
      for (const d of disposals) {
        const block: BlockRecord = {
          type: 'block',
          registry: ARB,
          registryProjectId: projectId,
          blockKey: `${issuanceId}/${d.key}`,
          issuanceKey: issuanceId,
          quantity: d.quantity,
          vintageYear: vintage,
          creditType: 'arboc',
          status: d.status,
          retirementReason: d.column,
          retirementPurpose: d.purpose,
          retirementDetails: d.details,
          eligibility: [],
        };
        records.push(block);
      }
      return { records, errors: [] };
    },
  };

  /** This row's OPR declarations joined with those of the project's rows just before it. */
  function declaredPrograms(projectId: string, locator: string, own: OtherProgram[]): OtherProgram[] {
    const at = position(locator);
    const continues = at && previous && previous.project === projectId && previous.prefix === at.prefix && at.n > previous.n;
    const programs = continues ? [...previous!.programs] : [];
    for (const p of own) {
      if (!programs.some((q) => q.projectId === p.projectId && q.program === p.program)) programs.push(p);
    }
    previous = at ? { ...at, project: projectId, programs } : undefined;
    return programs;
  }
}

export const arbIssuanceTable: FileFormat = issuanceTable();
