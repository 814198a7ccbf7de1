// Randomness and invented names for the synthetic world (bench/world.ts). Everything here is driven by
// one seeded generator, so a seed always yields the same world: no Math.random, no clock.

/** mulberry32: a small, fast 32-bit PRNG; good enough to draw a test world, not for anything secret. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max], both included. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list');
    return list[this.int(list.length)]!;
  }

  /** One of `choices`, drawn in proportion to its weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [value, weight] of choices) {
      r -= weight;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![0];
  }

  /**
   * A quantity between min and max, spread evenly over orders of magnitude (issuances of 2,000 t and
   * of 2,000,000 t are both common; a uniform draw would make nearly all of them large).
   */
  logBetween(min: number, max: number): number {
    return Math.round(Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min))));
  }
}

// ---- invented place names ---------------------------------------------------------------------------

// Words are built from open syllables (consonant + vowel), two or three of them, five letters at
// least. Such words cannot spell any of the generic words the link inference sets aside ("solar",
// "carbon"…; "mine" is the one open-syllable word among them, and it is too short), nor a bridge name
// a retirement could be taken for ("moss", "toucan").
const ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'ch', 'sh', 'br', 'kr', 'tr', 'dr', 'gl', 'pl'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'ei'];

function word(rng: Rng): string {
  for (;;) {
    const syllables = rng.between(2, 3);
    let w = '';
    for (let i = 0; i < syllables; i += 1) w += rng.pick(ONSETS) + rng.pick(VOWELS);
    if (w.length >= 5) return w[0]!.toUpperCase() + w.slice(1);
  }
}

/** pg_trgm-style trigrams of each word of a lower-case text. */
function trigrams(text: string): Set<string> {
  const grams = new Set<string>();
  for (const w of text.split(' ').filter(Boolean)) {
    const padded = `  ${w} `;
    for (let i = 0; i + 3 <= padded.length; i += 1) grams.add(padded.slice(i, i + 3));
  }
  return grams;
}

function similarity(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const g of a) if (b.has(g)) shared += 1;
  return shared / (a.size + b.size - shared);
}

/**
 * Hands out place names (two invented words, "Kalomi Trevasu") that are unique in the world and
 * unlike every other place name of the same country. Project names are a place name plus a phrase
 * made of words every project uses ("Wind Power Project"), so two projects' names are alike only when
 * the generator means them to be: the engine links projects of one country by name similarity, and an
 * accidental likeness would be a link, and findings, that the ground truth does not know of.
 */
export class PlaceNames {
  private readonly used = new Set<string>();
  private readonly byCountry = new Map<string, Set<string>[]>();

  /** Pairs of names in one country whose word trigrams are this alike or more are refused (the engine links at 0.6). */
  static readonly MAX_SIMILARITY = 0.3;

  constructor(private readonly rng: Rng) {}

  /** A new place name for a project in each of `countries` (one name shared by all of them). */
  take(countries: readonly string[]): string {
    for (let attempt = 0; attempt < 1000; attempt += 1) {
      const name = `${word(this.rng)} ${word(this.rng)}`;
      const grams = trigrams(name.toLowerCase());
      if (this.used.has(name)) continue;
      const clash = countries.some((c) => (this.byCountry.get(c) ?? []).some((g) => similarity(g, grams) >= PlaceNames.MAX_SIMILARITY));
      if (clash) continue;
      this.used.add(name);
      for (const c of countries) {
        if (!this.byCountry.has(c)) this.byCountry.set(c, []);
        this.byCountry.get(c)!.push(grams);
      }
      return name;
    }
    throw new Error('could not find a distinctive place name in 1000 attempts');
  }
}

/** An invented organisation name: "Trevasu Energy Ltd". Not checked for likeness: proponents alone never link projects. */
export function organisationName(rng: Rng, kind: 'developer' | 'buyer' | 'government', country: string): string {
  const w = word(rng);
  if (kind === 'government') return rng.pick([`Ministry of Environment of ${country}`, `${country} Forest Authority`, `Government of ${country}`]);
  const suffixes = kind === 'developer'
    ? ['Energy Ltd', 'Renewables Pvt Ltd', 'Carbon Partners', 'Climate Solutions', 'Environmental Services S.A.', 'Holdings LLC', 'Conservation Trust', 'Green Power Co.']
    : ['Airlines', 'Logistics AG', 'Retail Group', 'Bank plc', 'Foods Inc.', 'Software GmbH', 'Cement Corp.', 'Travel Ltd'];
  return `${w} ${rng.pick(suffixes)}`;
}
