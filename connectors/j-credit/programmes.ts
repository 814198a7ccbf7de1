// The three programmes in the J-Credit list and how a project number names one (reference
// registries.md §4; krutar.com/about/number, the scheme's page on 制度記号). J-Credit (2013–) took over
// the 国内クレジット (Domestic Credit) and J-VER schemes; its registered-project list still carries their
// projects under their own numbers, in sheets of their own:
//
// | 分類 (sheet)                        | project number | programme             | Tally id   |
// | 【J-クレジット】一覧(通常型)        | `35`           | j-credit              | `35`       |
// | 【J-クレジット】一覧(プログラム型)  | `35`           | j-credit              | `P35`      |
// | 【国内クレジット】一覧(通常型)      | `KC0016`       | japan-domestic-credit | `KC0016`   |
// | 【国内クレジット】一覧(プログラム型)| `KCP008`       | japan-domestic-credit | `KCP008`   |
// | 【J-VER】一覧(通常型)               | `JVR0249`      | j-ver                 | `JVR0249`  |
//
// J-Credit numbers its ordinary (通常型) and programme-type (プログラム型) projects separately, both from
// 1: the list has a project 1 in each sheet, and they are different projects. `P<n>` is Tally's key for
// a programme-type project, not a notation of the registry's; the registry's number is the digits.

export type Programme = 'j-credit' | 'japan-domestic-credit' | 'j-ver';

export type ProjectClass = { programme: Programme; programmeType: boolean; label: string };

const PROGRAMME_OF_LABEL: Record<string, Programme> = { 'J-クレジット': 'j-credit', '国内クレジット': 'japan-domestic-credit', 'J-VER': 'j-ver' };

/** `【J-クレジット】一覧(プログラム型)` (a `分類` value or a sheet name) → its programme and type; undefined if it is none. */
export function projectClass(text: string | undefined): ProjectClass | undefined {
  if (!text) return undefined;
  const label = text.normalize('NFKC').trim();
  const m = label.match(/^【(J-クレジット|国内クレジット|J-VER)】\s*一覧\s*\((通常型|プログラム型)\)$/);
  if (!m) return undefined;
  return { programme: PROGRAMME_OF_LABEL[m[1]!]!, programmeType: m[2] === 'プログラム型', label };
}

const NUMBER_FORM: Record<Programme, { ordinary: RegExp; programmeType: RegExp; example: string }> = {
  'j-credit': { ordinary: /^\d+$/, programmeType: /^\d+$/, example: '35' },
  'japan-domestic-credit': { ordinary: /^KC\d+$/, programmeType: /^KCP\d+$/, example: 'KC0016 / KCP008' },
  'j-ver': { ordinary: /^JVR\d+$/, programmeType: /^JVR\d+$/, example: 'JVR0249' },
};

/** The programme a project number alone names (`KC…`, `KCP…`, `JVR…`); plain numbers need their class. */
export function programmeOfNumber(number: string): { programme: Programme; programmeType: boolean } | undefined {
  if (/^KCP\d+$/i.test(number)) return { programme: 'japan-domestic-credit', programmeType: true };
  if (/^KC\d+$/i.test(number)) return { programme: 'japan-domestic-credit', programmeType: false };
  if (/^JVR\d+$/i.test(number)) return { programme: 'j-ver', programmeType: false };
  return undefined;
}

/**
 * The project's key in its programme, or why the number does not fit the class: `35` in the ordinary
 * sheet is `35`, in the programme-type sheet `P35`; `KC0016` must sit in a 国内クレジット sheet.
 */
export function registryProjectId(number: string, cls: ProjectClass): { id: string } | { error: string } {
  const form = NUMBER_FORM[cls.programme];
  const n = number.normalize('NFKC').trim().toUpperCase();
  if (!(cls.programmeType ? form.programmeType : form.ordinary).test(n)) {
    return { error: `"${number.trim()}" is not a project number of ${cls.label} (expected ${form.example})` };
  }
  return { id: cls.programme === 'j-credit' && cls.programmeType ? `P${Number(n)}` : n };
}
