// The one place that knows each Questionnaire item type: which answer value[x] it takes (R4 Questionnaire
// item-type table), how an answer value is checked (R4 grammar + the item's constraints), and, for the types the
// care-form payload carries, the payload's JSON-Schema fragment and the exact conversions payload value ⇄ answer.
// The payload schema generator, the mapping engine and the QuestionnaireResponse validator all read this table;
// supporting another item type is one entry here.
import type { Coding, QuestionnaireItem, QuestionnaireResponseItemAnswer } from 'fhir/r4.js';
import { fhirTemporalProblem, R4_REGEX, wholeValuePattern, type FhirTemporalType } from '../../base/fhir-dates.js';
import type { Json, JsonObject } from '../../base/json-paths.js';
import { issue, type Issue } from '../../base/outcome.js';
import { ERA_DATE_REGEX, parseDate } from './era-date.js';
import { EXT, extensionValue } from './form-definition.js';
import {
  checkCheckDigit,
  checkCoding,
  checkLength,
  checkOptions,
  checkQuantity,
  checkRange,
  checkRegex,
  constraintsOf,
  type At,
  type ItemConstraints,
} from './item-constraints.js';

export type AnswerKey =
  | 'valueBoolean'
  | 'valueDecimal'
  | 'valueInteger'
  | 'valueDate'
  | 'valueDateTime'
  | 'valueTime'
  | 'valueString'
  | 'valueUri'
  | 'valueCoding'
  | 'valueAttachment'
  | 'valueReference'
  | 'valueQuantity';

type Answer = QuestionnaireResponseItemAnswer;

/** How the care-form payload carries an item type. */
export interface PayloadCodec {
  /** The payload value's JSON Schema (title, description, min/max and repeats are added by payload-schema.ts). */
  schema(item: QuestionnaireItem): JsonObject;
  /** A schema `pattern` this type emits, with the reason a value fails it (the same reason the engine gives). */
  grammar?: { pattern: string; reason: (v: string) => string | undefined };
  /** One payload value → one answer, or undefined with the issue(s) pushed at `path`. */
  toAnswer(item: QuestionnaireItem, v: Json, path: string, issues: Issue[]): Answer | undefined;
  /** One answer → the payload value it came from (exactly). */
  fromAnswer(item: QuestionnaireItem, a: Answer, path: string, issues: Issue[]): Json | undefined;
}

export interface ItemType {
  /** The answer value[x] properties this type takes. */
  valueKeys: readonly AnswerKey[];
  /** Checks one answer value stored under `key` (one of valueKeys): its R4 type and the item's constraints. */
  check(key: AnswerKey, value: unknown, c: ItemConstraints, at: At, out: Issue[]): void;
  /** Absent: the mapping engine does not support the type (its payload field accepts nothing). */
  payload?: PayloadCodec;
}

// ---- answer values, by value[x]: the checks every direction shares

const wrongValue = (key: AnswerKey, t: string, at: At): Issue => issue('value', `${key} must be a ${t}`, at());

/** R4 grammar of a date/time primitive; the message is the one every place gives for a bad date. */
function temporal(type: FhirTemporalType, key: AnswerKey, v: unknown, at: At, out: Issue[]): boolean {
  if (typeof v !== 'string') {
    out.push(wrongValue(key, `${type} string`, at));
    return false;
  }
  const problem = fhirTemporalProblem(type, v);
  if (problem) out.push(issue('value', `'${v}': ${problem}`, at()));
  return problem === undefined;
}

/** Options, regex and range: what R4 lets any item ask of a simple value. */
function scalar(key: AnswerKey, v: unknown, c: ItemConstraints, at: At, out: Issue[]): void {
  checkOptions(c, key, v, at, out);
  checkRegex(c, v, at, out);
  checkRange(c, v, at, out);
}

const VALUE_CHECKS: Readonly<Record<AnswerKey, (v: unknown, c: ItemConstraints, at: At, out: Issue[]) => void>> = {
  valueString: (v, c, at, out) => {
    if (typeof v !== 'string') return void out.push(wrongValue('valueString', 'string', at));
    checkLength(c, v, at, out);
    scalar('valueString', v, c, at, out);
  },
  valueBoolean: (v, c, at, out) => {
    if (typeof v !== 'boolean') return void out.push(wrongValue('valueBoolean', 'boolean', at));
    scalar('valueBoolean', v, c, at, out);
  },
  valueInteger: (v, c, at, out) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return void out.push(wrongValue('valueInteger', 'integer', at));
    scalar('valueInteger', v, c, at, out);
  },
  valueDecimal: (v, c, at, out) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return void out.push(wrongValue('valueDecimal', 'number', at));
    scalar('valueDecimal', v, c, at, out);
  },
  valueDate: (v, c, at, out) => void (temporal('date', 'valueDate', v, at, out) && scalar('valueDate', v, c, at, out)),
  valueDateTime: (v, c, at, out) =>
    void (temporal('dateTime', 'valueDateTime', v, at, out) && scalar('valueDateTime', v, c, at, out)),
  valueTime: (v, c, at, out) => void (temporal('time', 'valueTime', v, at, out) && scalar('valueTime', v, c, at, out)),
  valueCoding: (v, c, at, out) => checkCoding(c, v as Coding, at, out),
  valueQuantity: (v, c, at, out) => checkQuantity(c, v as { value?: unknown }, at, out),
  valueUri: (v, c, at, out) => scalar('valueUri', v, c, at, out),
  valueAttachment: (v, c, at, out) => scalar('valueAttachment', v, c, at, out),
  valueReference: (v, c, at, out) => scalar('valueReference', v, c, at, out),
};

const checkByKey: ItemType['check'] = (key, value, c, at, out) => VALUE_CHECKS[key](value, c, at, out);

// ---- payload codecs

const describeOptions = (item: QuestionnaireItem): string =>
  (item.answerOption ?? []).map((o) => `${o.valueCoding?.code} (${o.valueCoding?.display})`).join(', ');

const wrongType = (item: QuestionnaireItem, expected: string, path: string): Issue =>
  issue('structure', `item ${item.linkId} (${item.text ?? ''}) expects ${expected}`, path);

/**
 * The answer built from a payload value gets the same check as a QuestionnaireResponse answer, so a payload is
 * refused for the same reasons, with the same messages, at the payload field. The answer is returned either way
 * (as before: the issues decide, and the caller collects them all).
 */
function checked(item: QuestionnaireItem, key: AnswerKey, answer: Answer, path: string, issues: Issue[]): Answer {
  VALUE_CHECKS[key]((answer as Record<string, unknown>)[key], constraintsOf(item), () => path, issues);
  return answer;
}

/** A payload field that is the answer value itself, of one JSON type. */
function plain(
  key: AnswerKey,
  schemaType: 'string' | 'boolean' | 'integer' | 'number',
  accepts: (v: Json) => boolean,
  expected: string,
): PayloadCodec {
  return {
    schema: () => ({ type: schemaType }),
    toAnswer: (item, v, path, issues) =>
      accepts(v) ? checked(item, key, { [key]: v }, path, issues) : void issues.push(wrongType(item, expected, path)),
    fromAnswer: (_item, a) => (a as Record<string, Json | undefined>)[key],
  };
}

const isInteger = (v: Json): boolean => typeof v === 'number' && Number.isInteger(v);
const isNumber = (v: Json): boolean => typeof v === 'number' && Number.isFinite(v);

const text: PayloadCodec = {
  schema: (item) => {
    const s: JsonObject = { type: 'string' };
    if (item.maxLength !== undefined) s.maxLength = item.maxLength;
    const re = extensionValue<string>(item, EXT.regex);
    // The whole value must match (as in the engine); our regexes say so themselves, others are wrapped.
    if (re !== undefined) s.pattern = /^\^.*\$$/s.test(re) ? re : `^(?:${re})$`;
    return s;
  },
  toAnswer: (item, v, path, issues) => {
    if (typeof v !== 'string') return void issues.push(wrongType(item, 'a string', path));
    const answer = checked(item, 'valueString', { valueString: v }, path, issues);
    checkCheckDigit(constraintsOf(item), v, () => path, issues);
    return answer;
  },
  fromAnswer: (_item, a) => a.valueString,
};

/** A payload date is an R4 date or a Japanese era date; the era text is kept next to valueDate. */
const DATE_PATTERN = `^(?:${R4_REGEX.date}|${ERA_DATE_REGEX})$`;
const eraOrIsoReason = (v: string): string | undefined => {
  const parsed = parseDate(v);
  return typeof parsed === 'string' ? parsed : undefined;
};

const date: PayloadCodec = {
  schema: () => ({ type: 'string', pattern: DATE_PATTERN }),
  grammar: { pattern: DATE_PATTERN, reason: eraOrIsoReason },
  toAnswer: (item, v, path, issues) => {
    if (typeof v !== 'string') return void issues.push(wrongType(item, 'a date string', path));
    const parsed = parseDate(v);
    if (typeof parsed === 'string') return void issues.push(issue('value', `'${v}': ${parsed}`, path));
    const answer: Answer = parsed.era
      ? { valueDate: parsed.iso, extension: [{ url: EXT.originalText, valueString: v }] }
      : { valueDate: parsed.iso };
    return checked(item, 'valueDate', answer, path, issues);
  },
  fromAnswer: (_item, a, path, issues) => {
    const original = a.extension?.find((e) => e.url === EXT.originalText)?.valueString;
    if (original === undefined) return a.valueDate;
    const parsed = parseDate(original);
    // The kept text must still say the same date as valueDate; otherwise someone edited one of them.
    if (typeof parsed === 'string' || parsed.iso !== a.valueDate)
      issues.push(issue('invariant', `original text '${original}' does not match valueDate ${a.valueDate}`, path));
    return original;
  },
};

/** A payload date-time is an R4 dateTime, kept exactly as received (offset included). */
const DATETIME_PATTERN = wholeValuePattern('dateTime');
const dateTime: PayloadCodec = {
  schema: () => ({ type: 'string', pattern: DATETIME_PATTERN }),
  grammar: { pattern: DATETIME_PATTERN, reason: (v) => fhirTemporalProblem('dateTime', v) },
  toAnswer: (item, v, path, issues) =>
    typeof v === 'string'
      ? checked(item, 'valueDateTime', { valueDateTime: v }, path, issues)
      : void issues.push(wrongType(item, 'a date-time string', path)),
  fromAnswer: (_item, a) => a.valueDateTime,
};

/** A payload choice is the option's code; the answer carries the option's whole coding. */
const choice: PayloadCodec = {
  schema: (item) => ({
    type: 'string',
    enum: (item.answerOption ?? []).map((o) => o.valueCoding?.code ?? ''),
    description: `linkId ${item.linkId}: ${(item.answerOption ?? []).map((o) => `${o.valueCoding?.code}=${o.valueCoding?.display}`).join(', ')}`,
  }),
  toAnswer: (item, v, path, issues) => {
    if (typeof v !== 'string') return void issues.push(wrongType(item, 'a choice code string', path));
    const opt = item.answerOption?.find((o) => o.valueCoding?.code === v);
    if (!opt?.valueCoding) {
      const why = `'${v}' is not a choice of item ${item.linkId} (${item.text ?? ''}): ${describeOptions(item)}`;
      return void issues.push(issue('code-invalid', why, path));
    }
    return { valueCoding: { ...opt.valueCoding } };
  },
  fromAnswer: (_item, a) => a.valueCoding?.code,
};

/** A payload quantity is the number, in the item's questionnaire-unit. */
const quantity: PayloadCodec = {
  schema: () => ({ type: 'number' }),
  toAnswer: (item, v, path, issues) => {
    if (!isNumber(v)) return void issues.push(wrongType(item, 'a number', path));
    const unit = extensionValue<{ system?: string; code?: string; display?: string }>(item, EXT.unit);
    const answer: Answer = {
      valueQuantity: {
        value: v as number,
        ...(unit ? { unit: unit.display ?? unit.code, system: unit.system, code: unit.code } : {}),
      },
    };
    return checked(item, 'valueQuantity', answer, path, issues);
  },
  fromAnswer: (_item, a) => a.valueQuantity?.value,
};

// ---- the table (R4 Questionnaire item types; group and display take no answers)

export const ITEM_TYPES: Readonly<Record<string, ItemType>> = {
  boolean: {
    valueKeys: ['valueBoolean'],
    check: checkByKey,
    payload: plain('valueBoolean', 'boolean', (v) => typeof v === 'boolean', 'true or false'),
  },
  decimal: {
    valueKeys: ['valueDecimal'],
    check: checkByKey,
    payload: plain('valueDecimal', 'number', isNumber, 'a number'),
  },
  integer: {
    valueKeys: ['valueInteger'],
    check: checkByKey,
    payload: plain('valueInteger', 'integer', isInteger, 'a whole number'),
  },
  date: { valueKeys: ['valueDate'], check: checkByKey, payload: date },
  dateTime: { valueKeys: ['valueDateTime'], check: checkByKey, payload: dateTime },
  time: { valueKeys: ['valueTime'], check: checkByKey },
  string: { valueKeys: ['valueString'], check: checkByKey, payload: text },
  text: { valueKeys: ['valueString'], check: checkByKey, payload: text },
  url: { valueKeys: ['valueUri'], check: checkByKey },
  choice: { valueKeys: ['valueCoding'], check: checkByKey, payload: choice },
  'open-choice': { valueKeys: ['valueCoding', 'valueString'], check: checkByKey },
  attachment: { valueKeys: ['valueAttachment'], check: checkByKey },
  reference: { valueKeys: ['valueReference'], check: checkByKey },
  quantity: { valueKeys: ['valueQuantity'], check: checkByKey, payload: quantity },
};

export const itemTypeOf = (item: QuestionnaireItem): ItemType | undefined =>
  Object.hasOwn(ITEM_TYPES, item.type) ? ITEM_TYPES[item.type] : undefined;
