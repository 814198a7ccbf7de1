import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';
import { bothUsed, overlapCandidate } from './serial-overlap.ts';

// Rule 5 (DESIGN §6): retired twice. The same units used up twice: two current blocks of one number
// space, both retired or cancelled, that share serials. In practice one retirement recorded under two
// identities: an API partition that overlaps another, a holdings view mixed with the retirement ledger
// (reference/registries.md §6.2 "re-counted retirement"), or two registries' records of the same serials.
// Sources: ICVCM CCP 8 "No double counting" (double use: "one issued unit is used or retired twice");
// CORSIA EUC "only counted once". The same block seen twice in one pull is one block (its registry
// identity is the block key), so it is never a finding; units retired in a registry and also alive as a
// token are rule 6's.

export async function findRetiredTwice(run: RuleRun): Promise<FindingCandidate[]> {
  const pairs = (await run.overlaps()).filter(bothUsed);
  return pairs.map((pair) => {
    const units = pair.end - pair.start + 1;
    const [first, second] = [pair.a.date, pair.b.date].map((d) => d ?? msg('word.noDate'));
    const status = pair.a.status === pair.b.status && (pair.a.status === 'retired' || pair.a.status === 'cancelled') ? pair.a.status : 'used';
    return overlapCandidate(pair, 'retired-twice', msg('finding.retired-twice', {
      units, start: String(pair.start), end: String(pair.end), numberSpace: pair.numberSpace, status: msg(`verb.${status}`), dates: msg('word.dates', { first, second }),
    }));
  });
}
