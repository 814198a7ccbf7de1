// The Article 6.4 mechanism (Paris Agreement Crediting Mechanism; reference/registries.md §4) as its units
// reach Tally through a CAD Trust v2 upload, until the mechanism registry publishes a feed of its own.
//
// - At issuance the mechanism registry takes two levies from the A6.4ERs it issues: the share of proceeds
//   for adaptation (5 %, forwarded to the Adaptation Fund's account) and the overall mitigation in global
//   emissions (at least 2 %, cancelled in the OMGE cancellation account) (the mechanism's rules,
//   modalities and procedures, decision 3/CMA.3 annex; the registry's accounts as the Supervisory Body's
//   registry procedure sets them: pending, holding, retirement, cancellation, OMGE cancellation and the
//   Adaptation Fund's). In a CAD Trust upload these are units of the issuance like any other:
//   a unit held by the Adaptation Fund, or cancelled for OMGE, says so in its owner, status reason or
//   retirement detail. Tally stores them as blocks and sums them onto the issuance as its share-of-proceeds
//   and OMGE quantities.
// - A6.4ERs are either authorized by the host Party (for use towards NDCs and/or other international
//   mitigation purposes, with a corresponding adjustment) or "mitigation contribution" A6.4ERs (not
//   authorized, no adjustment). A CAD Trust v2 unit is authorized when it carries an "Article 6 -
//   Authorisation" label or an ITMO reference (`unitItmosReferenceId`); any other A6.4ER is a mitigation
//   contribution unit: its corresponding adjustment is not required.

export const A64_REGISTRY = 'a64-mechanism';

export type A64Levy = 'share-of-proceeds' | 'omge';

const OMGE = /\bOMGE\b|overall mitigation in global emissions/i;
const SHARE_OF_PROCEEDS = /adaptation fund|share of proceeds|\bSOP\b/i;

/** Which levy a unit of an A6.4 issuance is, from what the unit says of itself; undefined for an ordinary unit. */
export function a64LevyOf(unit: { status: string | undefined; texts: (string | undefined)[] }): A64Levy | undefined {
  const text = unit.texts.filter(Boolean).join(' ');
  if (OMGE.test(text) && unit.status === 'cancelled') return 'omge';
  if (SHARE_OF_PROCEEDS.test(text)) return 'share-of-proceeds';
  return undefined;
}

/**
 * The use a retirement or cancellation states: CORSIA, other international mitigation purposes, or an NDC.
 * Only these explicit words count; anything else leaves the purpose unknown.
 */
export function usePurposeOf(...texts: (string | undefined)[]): 'corsia' | 'oimp' | 'ndc' | undefined {
  const text = texts.filter(Boolean).join(' ');
  if (/\bCORSIA\b/i.test(text)) return 'corsia';
  if (/\bOIMP\b|other international mitigation purposes?/i.test(text)) return 'oimp';
  if (/\bNDC\b|nationally determined contribution/i.test(text)) return 'ndc';
  return undefined;
}
