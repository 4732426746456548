// Check a QuestionnaireResponse against its Questionnaire: the part of form validation that no base-spec or
// profile validator does. Every problem is collected with its path; nothing throws.
// Not interpreted (our forms do not use them): enableWhen, answerValueSet, initial, readOnly.
import type {
  Coding,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from 'fhir/r4.js';
import { issue, type Issue } from '../../base/outcome.js';

const EXT = {
  regex: 'http://hl7.org/fhir/StructureDefinition/regex',
  unit: 'http://hl7.org/fhir/StructureDefinition/questionnaire-unit',
  minValue: 'http://hl7.org/fhir/StructureDefinition/minValue',
  maxValue: 'http://hl7.org/fhir/StructureDefinition/maxValue',
  maxOccurs: 'http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs',
} as const;

/** Which answer value[x] each item type takes (R4 Questionnaire item-type table). */
const VALUE_KEYS: Record<string, readonly string[]> = {
  boolean: ['valueBoolean'],
  decimal: ['valueDecimal'],
  integer: ['valueInteger'],
  date: ['valueDate'],
  dateTime: ['valueDateTime'],
  time: ['valueTime'],
  string: ['valueString'],
  text: ['valueString'],
  url: ['valueUri'],
  choice: ['valueCoding'],
  'open-choice': ['valueCoding', 'valueString'],
  attachment: ['valueAttachment'],
  reference: ['valueReference'],
  quantity: ['valueQuantity'],
};

// R4 regexes. dateTime: a time part needs seconds and an offset (Medplum's regex accepts neither rule).
const R4_DATE = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$/;
const R4_DATETIME =
  /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;

/** What we precompute per Questionnaire item (regexes compiled once; Questionnaires are reused for every QR). */
interface ItemInfo {
  def: QuestionnaireItem;
  parent: string | undefined;
  regex?: RegExp | string; // string = the compile error
  unit?: Coding;
  maxOccurs?: number;
  min?: number | string;
  max?: number | string;
}

const indexes = new WeakMap<Questionnaire, Map<string, ItemInfo>>();

function ext(def: QuestionnaireItem, url: string) {
  return def.extension?.find((e) => e.url === url);
}

function bound(def: QuestionnaireItem, url: string): number | string | undefined {
  const e = ext(def, url) as Record<string, unknown> | undefined;
  if (!e) return undefined;
  for (const k of ['valueInteger', 'valueDecimal', 'valueDate', 'valueDateTime', 'valueTime']) {
    const v = e[k];
    if (typeof v === 'number' || typeof v === 'string') return v;
  }
  return undefined;
}

function indexOf(q: Questionnaire): Map<string, ItemInfo> {
  const cached = indexes.get(q);
  if (cached) return cached;
  const map = new Map<string, ItemInfo>();
  const walk = (items: readonly QuestionnaireItem[] | undefined, parent: string | undefined): void => {
    for (const def of items ?? []) {
      const info: ItemInfo = { def, parent };
      const pattern = ext(def, EXT.regex)?.valueString;
      if (pattern !== undefined) {
        try {
          info.regex = new RegExp(`^(?:${pattern})$`, 'u'); // the whole answer must match
        } catch (err) {
          info.regex = (err as Error).message;
        }
      }
      const unit = ext(def, EXT.unit)?.valueCoding;
      if (unit) info.unit = unit;
      const maxOccurs = ext(def, EXT.maxOccurs)?.valueInteger;
      if (maxOccurs !== undefined) info.maxOccurs = maxOccurs;
      const min = bound(def, EXT.minValue);
      if (min !== undefined) info.min = min;
      const max = bound(def, EXT.maxValue);
      if (max !== undefined) info.max = max;
      if (!map.has(def.linkId)) map.set(def.linkId, info);
      walk(def.item, def.linkId);
    }
  };
  walk(q.item, undefined);
  indexes.set(q, map);
  return map;
}

export function validateAgainstQuestionnaire(qr: QuestionnaireResponse, questionnaire: Questionnaire): Issue[] {
  const out: Issue[] = [];
  checkCanonical(qr, questionnaire, out);
  checkLevel(qr.item, questionnaire.item ?? [], 'QuestionnaireResponse', undefined, indexOf(questionnaire), out);
  return out;
}

function checkCanonical(qr: QuestionnaireResponse, q: Questionnaire, out: Issue[]): void {
  const path = 'QuestionnaireResponse.questionnaire';
  if (typeof qr.questionnaire !== 'string') {
    out.push(issue('required', `questionnaire must reference ${q.url ?? 'the Questionnaire'}`, path));
    return;
  }
  const [url, version] = qr.questionnaire.split('|');
  if (url !== q.url)
    out.push(issue('value', `questionnaire is ${qr.questionnaire}, expected ${q.url ?? '(no url)'}`, path));
  else if (version !== undefined && version !== q.version) {
    out.push(
      issue(
        'value',
        `questionnaire version ${version} does not match the Questionnaire's version ${q.version ?? '(none)'}`,
        path,
      ),
    );
  }
}

const where = (linkId: string | undefined): string => (linkId === undefined ? 'the top level' : `'${linkId}'`);

function checkLevel(
  items: unknown,
  defs: readonly QuestionnaireItem[],
  containerPath: string,
  parentLinkId: string | undefined,
  index: Map<string, ItemInfo>,
  out: Issue[],
): void {
  const list = (Array.isArray(items) ? items : []) as QuestionnaireResponseItem[];
  const here = new Map(defs.map((d) => [d.linkId, d] as const));
  const occurrences = new Map<string, number[]>();
  list.forEach((it, i) => {
    const linkId = it?.linkId;
    if (here.has(linkId)) {
      occurrences.set(linkId, [...(occurrences.get(linkId) ?? []), i]);
      return;
    }
    const elsewhere = index.get(linkId);
    const path = `${containerPath}.item[${i}].linkId`;
    if (elsewhere)
      out.push(
        issue(
          'structure',
          `Item '${linkId}' belongs under ${where(elsewhere.parent)}, not ${where(parentLinkId)}`,
          path,
        ),
      );
    else out.push(issue('not-found', `Unknown linkId '${String(linkId)}'`, path));
  });
  for (const def of defs) {
    const occ = occurrences.get(def.linkId) ?? [];
    const info = index.get(def.linkId) ?? { def, parent: parentLinkId };
    const itemPath = (n: number): string => `${containerPath}.item[${n}]`;
    if (occ.length === 0) {
      if (def.required) out.push(issue('required', `Required item '${def.linkId}' is missing`, containerPath));
      continue;
    }
    if (def.type === 'group' || def.type === 'display') {
      checkCount(occ.length, def, info, (n) => itemPath(occ[n] ?? 0), 'repetition', out);
      for (const n of occ) {
        const it = list[n] as QuestionnaireResponseItem;
        if (it.answer !== undefined)
          out.push(
            issue('structure', `${def.type} item '${def.linkId}' must not have answers`, `${itemPath(n)}.answer`),
          );
        checkLevel(it.item, def.item ?? [], itemPath(n), def.linkId, index, out);
      }
      continue;
    }
    // A question: all its answers belong in one item's answer array, even when it repeats.
    if (occ.length > 1) {
      out.push(
        issue(
          'structure',
          `Question '${def.linkId}' appears ${occ.length} times; its answers belong in one item`,
          itemPath(occ[1] ?? 0),
        ),
      );
    }
    let answered = 0;
    for (const n of occ) {
      const it = list[n] as QuestionnaireResponseItem;
      const answers = (Array.isArray(it.answer) ? it.answer : []) as QuestionnaireResponseItemAnswer[];
      answered += answers.length;
      if (it.item !== undefined)
        out.push(
          issue('structure', `Items nested in question '${def.linkId}' belong under its answer`, `${itemPath(n)}.item`),
        );
      checkCount(answers.length, def, info, (k) => `${itemPath(n)}.answer[${k}]`, 'answer', out);
      answers.forEach((a, k) => {
        const answerPath = `${itemPath(n)}.answer[${k}]`;
        checkAnswer(a, info, answerPath, out);
        if (def.item?.length) checkLevel(a.item, def.item, answerPath, def.linkId, index, out);
        else if (a.item !== undefined)
          out.push(issue('structure', `Question '${def.linkId}' has no nested items`, `${answerPath}.item`));
      });
    }
    if (def.required && answered === 0)
      out.push(issue('required', `Required item '${def.linkId}' has no answer`, itemPath(occ[0] ?? 0)));
  }
}

/** Not `repeats` → at most one; questionnaire-maxOccurs → at most that many. Reported at the first one too many. */
function checkCount(
  count: number,
  def: QuestionnaireItem,
  info: ItemInfo,
  pathOf: (n: number) => string,
  what: string,
  out: Issue[],
): void {
  const limit = def.repeats ? (info.maxOccurs ?? Infinity) : 1;
  if (count > limit) {
    const why = def.repeats ? `maxOccurs is ${limit}` : 'it does not repeat';
    out.push(issue('structure', `Item '${def.linkId}' has ${count} ${what}s but ${why}`, pathOf(limit)));
  }
}

function checkAnswer(a: QuestionnaireResponseItemAnswer, info: ItemInfo, path: string, out: Issue[]): void {
  const def = info.def;
  const keys = Object.keys(a).filter((k) => k.startsWith('value') && /^[A-Z]/.test(k.slice(5)));
  const key = keys[0];
  if (key === undefined) {
    out.push(issue('required', `Answer to '${def.linkId}' has no value`, path));
    return;
  }
  if (keys.length > 1) {
    out.push(
      issue('structure', `An answer has exactly one value, found ${keys.join(', ')}`, `${path}.${keys[1] ?? ''}`),
    );
    return;
  }
  const vpath = `${path}.${key}`;
  const expected = VALUE_KEYS[def.type] ?? [];
  if (!expected.includes(key)) {
    const want = expected.length ? expected.join(' or ') : 'no answer';
    out.push(issue('value', `Item '${def.linkId}' is of type ${def.type}: expected ${want}, found ${key}`, vpath));
    return;
  }
  const value = (a as Record<string, unknown>)[key];
  const wrongType = (t: string): void => void out.push(issue('value', `${key} must be a ${t}`, vpath));
  switch (key) {
    case 'valueString':
      if (typeof value !== 'string') return wrongType('string');
      if (def.maxLength !== undefined && [...value].length > def.maxLength) {
        out.push(
          issue(
            'value',
            `'${def.linkId}' allows at most ${def.maxLength} characters, found ${[...value].length}`,
            vpath,
          ),
        );
      }
      break;
    case 'valueBoolean':
      if (typeof value !== 'boolean') return wrongType('boolean');
      break;
    case 'valueInteger':
      if (typeof value !== 'number' || !Number.isInteger(value)) return wrongType('integer');
      break;
    case 'valueDecimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrongType('number');
      break;
    case 'valueDate':
      if (typeof value !== 'string' || !R4_DATE.test(value)) return wrongType('date (YYYY, YYYY-MM or YYYY-MM-DD)');
      break;
    case 'valueDateTime':
      if (typeof value !== 'string' || !R4_DATETIME.test(value))
        return wrongType('dateTime (a time needs seconds and an offset such as +09:00)');
      break;
    case 'valueCoding':
      return checkCoding(value as Coding, def, vpath, out);
    case 'valueQuantity':
      return checkQuantity(value as { value?: unknown; system?: string; code?: string }, info, vpath, out);
  }
  checkOptions(value, key, def, vpath, out);
  checkRegex(value, info, vpath, out);
  checkRange(value, info, vpath, out);
}

function checkCoding(c: Coding, def: QuestionnaireItem, path: string, out: Issue[]): void {
  const options = (def.answerOption ?? []).map((o) => o.valueCoding).filter((o): o is Coding => o !== undefined);
  const match = options.find((o) => o.system === c?.system && o.code === c?.code);
  if (!match) {
    out.push(
      issue('code-invalid', `${c?.system ?? ''}|${c?.code ?? ''} is not an answer option of '${def.linkId}'`, path),
    );
  } else if (c.display !== undefined && c.display !== match.display) {
    out.push(
      issue(
        'value',
        `display '${c.display}' differs from the option's '${match.display ?? '(none)'}'`,
        `${path}.display`,
      ),
    );
  }
}

function checkQuantity(
  q: { value?: unknown; system?: string; code?: string },
  info: ItemInfo,
  path: string,
  out: Issue[],
): void {
  if (typeof q !== 'object' || q === null || typeof q.value !== 'number') {
    out.push(issue('value', 'valueQuantity needs a numeric value', path));
    return;
  }
  const unit = info.unit;
  if (unit && (q.system !== unit.system || q.code !== unit.code)) {
    out.push(
      issue(
        'value',
        `Unit must be ${unit.code ?? ''} (${unit.system ?? ''}), found ${q.code ?? '(none)'} (${q.system ?? '(none)'})`,
        path,
      ),
    );
    return; // min/max are in the item's unit: comparing a value in another unit would only add noise
  }
  checkRange(q.value, info, `${path}.value`, out);
}

/** answerOption on non-choice items (R4 allows integer/date/time/string options): the value must be one of them. */
function checkOptions(value: unknown, key: string, def: QuestionnaireItem, path: string, out: Issue[]): void {
  const opts: unknown[] = (def.answerOption ?? [])
    .map((o) => (o as Record<string, unknown>)[key])
    .filter((v) => v !== undefined);
  if (opts.length > 0 && !opts.includes(value))
    out.push(issue('code-invalid', `${String(value)} is not an answer option of '${def.linkId}'`, path));
}

function checkRegex(value: unknown, info: ItemInfo, path: string, out: Issue[]): void {
  if (info.regex === undefined || (typeof value !== 'string' && typeof value !== 'number')) return;
  if (typeof info.regex === 'string') {
    out.push(issue('processing', `Questionnaire item '${info.def.linkId}' has an invalid regex: ${info.regex}`, path));
  } else if (!info.regex.test(String(value))) {
    out.push(issue('value', `'${String(value)}' does not match ${info.regex.source.slice(4, -2)}`, path));
  }
}

/** Numbers compare numerically; dates/times compare as ISO strings of the same precision (else not compared). */
function checkRange(value: unknown, info: ItemInfo, path: string, out: Issue[]): void {
  const cmp = (b: number | string): number | undefined => {
    if (typeof value === 'number' && typeof b === 'number') return value - b;
    if (typeof value === 'string' && typeof b === 'string' && value.length === b.length)
      return value < b ? -1 : value > b ? 1 : 0;
    return undefined;
  };
  if (info.min !== undefined && (cmp(info.min) ?? 0) < 0)
    out.push(issue('value', `${String(value)} is below the minimum ${info.min}`, path));
  if (info.max !== undefined && (cmp(info.max) ?? 0) > 0)
    out.push(issue('value', `${String(value)} is above the maximum ${info.max}`, path));
}
