// What a Questionnaire item asks of an answer beyond its type: maxLength, answerOption and the regex, minValue,
// maxValue, questionnaire-unit, questionnaire-maxOccurs and check-digit extensions. Read once per item (the
// Questionnaires are loaded once and reused for every request), and checked here for both directions: a
// QuestionnaireResponse answer and the answer the mapping engine builds from a payload value.
import type { Coding, QuestionnaireItem } from 'fhir/r4.js';
import { issue, type Issue } from '../../base/outcome.js';
import { CHECK_DIGITS } from './check-digits.js';
import { EXT, extensionValue } from './form-definition.js';

export interface ItemConstraints {
  item: QuestionnaireItem;
  /** The regex extension as written, compiled to match the whole value, or the reason it does not compile. */
  regex?: { source: string; whole: RegExp } | { source: string; error: string };
  unit?: Coding;
  maxOccurs?: number;
  min?: number | string;
  max?: number | string;
  checkDigit?: string;
}

/**
 * Where a problem is reported: `at()` is the answer value itself, `at('display')` a part of it. A QR answer names
 * its parts (`….valueCoding.display`); a payload field is the value, so every part is reported at the field.
 */
export type At = (part?: string) => string;

const cache = new WeakMap<QuestionnaireItem, ItemConstraints>();

/** A bound is a number (integer, decimal) or a date/dateTime/time string; anything else is not a bound. */
function bound(item: QuestionnaireItem, url: string): number | string | undefined {
  const v = extensionValue<unknown>(item, url);
  return typeof v === 'number' || typeof v === 'string' ? v : undefined;
}

export function constraintsOf(item: QuestionnaireItem): ItemConstraints {
  const cached = cache.get(item);
  if (cached) return cached;
  const c: ItemConstraints = { item };
  const source = extensionValue<string>(item, EXT.regex);
  if (source !== undefined) {
    try {
      c.regex = { source, whole: new RegExp(`^(?:${source})$`, 'u') }; // the whole answer must match
    } catch (err) {
      c.regex = { source, error: (err as Error).message };
    }
  }
  const unit = extensionValue<Coding>(item, EXT.unit);
  if (unit !== undefined) c.unit = unit;
  const maxOccurs = extensionValue<number>(item, EXT.maxOccurs);
  if (maxOccurs !== undefined) c.maxOccurs = maxOccurs;
  const min = bound(item, EXT.minValue);
  if (min !== undefined) c.min = min;
  const max = bound(item, EXT.maxValue);
  if (max !== undefined) c.max = max;
  const checkDigit = extensionValue<string>(item, EXT.checkDigit);
  if (checkDigit !== undefined) c.checkDigit = checkDigit;
  cache.set(item, c);
  return c;
}

export function checkLength(c: ItemConstraints, v: string, at: At, out: Issue[]): void {
  const n = [...v].length; // characters, not UTF-16 units: a surrogate pair is one character
  if (c.item.maxLength !== undefined && n > c.item.maxLength)
    out.push(issue('too-long', `${n} characters; at most ${c.item.maxLength} fit item ${c.item.linkId}`, at()));
}

/** True when the value matches the regex, or there is none (a regex that does not compile is reported by checkRegex). */
export const matchesRegex = (c: ItemConstraints, v: string | number): boolean =>
  c.regex === undefined || !('whole' in c.regex) || c.regex.whole.test(String(v));

export function checkRegex(c: ItemConstraints, v: unknown, at: At, out: Issue[]): void {
  if (c.regex === undefined || (typeof v !== 'string' && typeof v !== 'number')) return;
  if ('error' in c.regex) {
    out.push(issue('processing', `Questionnaire item '${c.item.linkId}' has an invalid regex: ${c.regex.error}`, at()));
  } else if (!matchesRegex(c, v)) {
    out.push(issue('value', `'${String(v)}' does not match ${c.regex.source} (item ${c.item.linkId})`, at()));
  }
}

/** Numbers compare numerically; dates/times compare as ISO strings of the same precision (else not compared). */
export function checkRange(c: ItemConstraints, v: unknown, at: At, out: Issue[]): void {
  const cmp = (b: number | string): number | undefined => {
    if (typeof v === 'number' && typeof b === 'number') return v - b;
    if (typeof v === 'string' && typeof b === 'string' && v.length === b.length) return v < b ? -1 : v > b ? 1 : 0;
    return undefined;
  };
  if (c.min !== undefined && (cmp(c.min) ?? 0) < 0)
    out.push(issue('value', `${String(v)} is below the minimum ${c.min} (item ${c.item.linkId})`, at()));
  if (c.max !== undefined && (cmp(c.max) ?? 0) > 0)
    out.push(issue('value', `${String(v)} is above the maximum ${c.max} (item ${c.item.linkId})`, at()));
}

/** answerOption on non-choice items (R4 allows integer/date/time/string options): the value must be one of them. */
export function checkOptions(c: ItemConstraints, key: string, v: unknown, at: At, out: Issue[]): void {
  const opts: unknown[] = (c.item.answerOption ?? [])
    .map((o) => (o as Record<string, unknown>)[key])
    .filter((x) => x !== undefined);
  if (opts.length > 0 && !opts.includes(v))
    out.push(issue('code-invalid', `${String(v)} is not an answer option of '${c.item.linkId}'`, at()));
}

/** A coding must be an answer option (system + code); a display, if given, must be the option's. */
export function checkCoding(c: ItemConstraints, coding: Coding, at: At, out: Issue[]): void {
  const options = (c.item.answerOption ?? []).map((o) => o.valueCoding).filter((o): o is Coding => o !== undefined);
  const match = options.find((o) => o.system === coding?.system && o.code === coding?.code);
  if (!match) {
    const code = `${coding?.system ?? ''}|${coding?.code ?? ''}`;
    out.push(issue('code-invalid', `${code} is not an answer option of '${c.item.linkId}'`, at()));
  } else if (coding.display !== undefined && coding.display !== match.display) {
    const why = `display '${coding.display}' differs from the option's '${match.display ?? '(none)'}'`;
    out.push(issue('value', why, at('display')));
  }
}

/** A quantity needs a number, in the item's questionnaire-unit if it names one; min/max apply to the number. */
export function checkQuantity(
  c: ItemConstraints,
  q: { value?: unknown; system?: string; code?: string },
  at: At,
  out: Issue[],
): void {
  if (typeof q !== 'object' || q === null || typeof q.value !== 'number') {
    out.push(issue('value', 'valueQuantity needs a numeric value', at()));
    return;
  }
  const unit = c.unit;
  if (unit && (q.system !== unit.system || q.code !== unit.code)) {
    const found = `${q.code ?? '(none)'} (${q.system ?? '(none)'})`;
    out.push(issue('value', `Unit must be ${unit.code ?? ''} (${unit.system ?? ''}), found ${found}`, at()));
    return; // min/max are in the item's unit: comparing a value in another unit would only add noise
  }
  checkRange(c, q.value, () => at('value'), out);
}

/**
 * The check-digit extension (a gateway extension, not R4): checked on care-form payloads only, once the value has
 * the regex's shape, so a QuestionnaireResponse from elsewhere is refused for nothing R4 does not ask.
 */
export function checkCheckDigit(c: ItemConstraints, v: string, at: At, out: Issue[]): void {
  if (c.checkDigit === undefined || !matchesRegex(c, v)) return;
  const algo = CHECK_DIGITS[c.checkDigit];
  if (!algo) out.push(issue('exception', `item ${c.item.linkId} names an unknown check digit ${c.checkDigit}`, at()));
  else if (!algo.valid(v))
    out.push(issue('value', `'${v}': ${algo.describe} (item ${c.item.linkId}, ${c.item.text ?? ''})`, at()));
}
