import type { rowReader } from '../runtime/row.ts';

// Isometric counts credits in kilograms: one credit is a tonne of CO₂e, and the API gives every
// quantity twice, as `credits` (a fraction to three decimals, 125.632) and as `credit_kgs` (the integer
// 125632). The integer is the exact one: quantities are read from it, and the fraction must agree with
// it. The ledger's quantity columns hold three decimals (numeric(20,3)), so a kilogram is stored exactly
// and sums over them stay exact.

type RowReader = ReturnType<typeof rowReader>;

export const REGISTRY = 'isometric';

/** Tonnes from kilograms, exact to the kilogram (a whole number of kg over 1000 prints with at most three decimals). */
export const tonnesOfKg = (kg: number): number => kg / 1000;

/**
 * A `CreditQuantity` flattened as `<prefix>.credits` / `<prefix>.credit_kgs`, in tonnes. Undefined
 * (with the error on the row) when unreadable, when both are given and disagree, or when only the
 * fraction is given and it has more than three decimals.
 */
export function readCredits(r: RowReader, prefix: string, options: { required: boolean; positive: boolean }): number | undefined {
  const creditsColumn = `${prefix}.credits`;
  const kgColumn = `${prefix}.credit_kgs`;
  const credits = r.number(creditsColumn);
  const kg = r.number(kgColumn);
  if (r.errors.some((e) => e.field === creditsColumn || e.field === kgColumn)) return undefined;
  let tonnes: number | undefined;
  if (kg !== undefined) {
    if (!Number.isSafeInteger(kg)) {
      r.fail(kgColumn, 'not-an-integer', `${kg} is not a whole number of kilograms`);
      return undefined;
    }
    if (credits !== undefined && Math.abs(credits * 1000 - kg) > 0.5) {
      r.fail(creditsColumn, 'credits-kg-mismatch', `${credits} credits is not ${kgColumn} ${kg} kg / 1000`);
      return undefined;
    }
    tonnes = tonnesOfKg(kg);
  } else if (credits !== undefined) {
    const kgFromCredits = Math.round(credits * 1000);
    if (Math.abs(credits * 1000 - kgFromCredits) > 1e-6) {
      r.fail(creditsColumn, 'too-precise', `${credits} has more than three decimals (credits are counted in whole kilograms)`);
      return undefined;
    }
    tonnes = tonnesOfKg(kgFromCredits);
  }
  if (tonnes === undefined) {
    if (options.required) r.fail(creditsColumn, 'missing', 'is empty');
    return undefined;
  }
  if (options.positive && !(tonnes > 0)) {
    r.fail(creditsColumn, 'quantity-not-positive', `${tonnes} is not a positive quantity`);
    return undefined;
  }
  if (tonnes < 0) {
    r.fail(creditsColumn, 'quantity-negative', `${tonnes} is negative`);
    return undefined;
  }
  return tonnes;
}

/** Whole kilograms of a tonnage read by readCredits, for sums that must stay exact. */
export const kgOf = (tonnes: number): number => Math.round(tonnes * 1000);
