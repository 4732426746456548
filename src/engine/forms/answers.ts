// One payload value ⇄ one QuestionnaireResponse answer, by the Questionnaire item's type.
// Every conversion is exact in both directions: strings are never trimmed or normalised, an era date keeps its
// original text, a date-time keeps its offset. Anything that does not fit is an issue, never a pass-through.
import type { QuestionnaireItem, QuestionnaireResponseItemAnswer } from 'fhir/r4.js';
import { issue, type Issue } from '../../base/outcome.js';
import { CHECK_DIGITS } from './check-digits.js';
import { checkDateTime, parseDate } from './era-date.js';
import { EXT, extensionValue } from './form-definition.js';
import type { Json } from '../../base/json-paths.js';

const describeOptions = (item: QuestionnaireItem): string =>
  (item.answerOption ?? []).map((o) => `${o.valueCoding?.code} (${o.valueCoding?.display})`).join(', ');

function checkText(item: QuestionnaireItem, v: string, path: string, issues: Issue[]): void {
  if (item.maxLength !== undefined && [...v].length > item.maxLength) {
    issues.push(
      issue('too-long', `${[...v].length} characters; at most ${item.maxLength} fit item ${item.linkId}`, path),
    );
  }
  const re = extensionValue<string>(item, EXT.regex);
  if (re !== undefined && !new RegExp(re, 'u').test(v))
    return void issues.push(issue('value', `'${v}' does not match ${re} (item ${item.linkId})`, path));
  const check = extensionValue<string>(item, EXT.checkDigit);
  if (check !== undefined) {
    const algo = CHECK_DIGITS[check];
    if (!algo) issues.push(issue('exception', `item ${item.linkId} names an unknown check digit ${check}`, path));
    else if (!algo.valid(v))
      issues.push(issue('value', `'${v}': ${algo.describe} (item ${item.linkId}, ${item.text ?? ''})`, path));
  }
}

function checkRange(item: QuestionnaireItem, v: number, path: string, issues: Issue[]): void {
  const min = extensionValue<number>(item, EXT.minValue);
  const max = extensionValue<number>(item, EXT.maxValue);
  if (min !== undefined && v < min)
    issues.push(issue('value', `${v} is below the minimum ${min} (item ${item.linkId})`, path));
  if (max !== undefined && v > max)
    issues.push(issue('value', `${v} is above the maximum ${max} (item ${item.linkId})`, path));
}

const wrongType = (item: QuestionnaireItem, expected: string, path: string): Issue =>
  issue('structure', `item ${item.linkId} (${item.text ?? ''}) expects ${expected}`, path);

/** A single (non-array) payload value → one answer, or undefined with an issue pushed. */
export function toAnswer(
  item: QuestionnaireItem,
  v: Json,
  path: string,
  issues: Issue[],
): QuestionnaireResponseItemAnswer | undefined {
  switch (item.type) {
    case 'string':
    case 'text':
      if (typeof v !== 'string') return void issues.push(wrongType(item, 'a string', path));
      checkText(item, v, path, issues);
      return { valueString: v };
    case 'boolean':
      if (typeof v !== 'boolean') return void issues.push(wrongType(item, 'true or false', path));
      return { valueBoolean: v };
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v))
        return void issues.push(wrongType(item, 'a whole number', path));
      checkRange(item, v, path, issues);
      return { valueInteger: v };
    case 'decimal':
      if (typeof v !== 'number' || !Number.isFinite(v)) return void issues.push(wrongType(item, 'a number', path));
      checkRange(item, v, path, issues);
      return { valueDecimal: v };
    case 'quantity': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return void issues.push(wrongType(item, 'a number', path));
      checkRange(item, v, path, issues);
      const unit = extensionValue<{ system?: string; code?: string; display?: string }>(item, EXT.unit);
      return {
        valueQuantity: {
          value: v,
          ...(unit ? { unit: unit.display ?? unit.code, system: unit.system, code: unit.code } : {}),
        },
      };
    }
    case 'date': {
      if (typeof v !== 'string') return void issues.push(wrongType(item, 'a date string', path));
      const parsed = parseDate(v);
      if (typeof parsed === 'string') return void issues.push(issue('value', `'${v}': ${parsed}`, path));
      return parsed.era
        ? { valueDate: parsed.iso, extension: [{ url: EXT.originalText, valueString: v }] }
        : { valueDate: parsed.iso };
    }
    case 'dateTime': {
      if (typeof v !== 'string') return void issues.push(wrongType(item, 'a date-time string', path));
      const bad = checkDateTime(v);
      if (bad) return void issues.push(issue('value', `'${v}': ${bad}`, path));
      return { valueDateTime: v };
    }
    case 'choice': {
      if (typeof v !== 'string') return void issues.push(wrongType(item, 'a choice code string', path));
      const opt = item.answerOption?.find((o) => o.valueCoding?.code === v);
      if (!opt?.valueCoding) {
        return void issues.push(
          issue(
            'code-invalid',
            `'${v}' is not a choice of item ${item.linkId} (${item.text ?? ''}): ${describeOptions(item)}`,
            path,
          ),
        );
      }
      return { valueCoding: { ...opt.valueCoding } };
    }
    default:
      issues.push(
        issue('not-supported', `item type ${item.type} of ${item.linkId} is not supported by the mapping engine`, path),
      );
      return undefined;
  }
}

/** One answer → the payload value it came from. */
export function fromAnswer(
  item: QuestionnaireItem,
  a: QuestionnaireResponseItemAnswer,
  path: string,
  issues: Issue[],
): Json | undefined {
  switch (item.type) {
    case 'string':
    case 'text':
      return a.valueString;
    case 'boolean':
      return a.valueBoolean;
    case 'integer':
      return a.valueInteger;
    case 'decimal':
      return a.valueDecimal;
    case 'quantity':
      return a.valueQuantity?.value;
    case 'date': {
      const original = a.extension?.find((e) => e.url === EXT.originalText)?.valueString;
      if (original !== undefined) {
        const parsed = parseDate(original);
        // The kept text must still say the same date as valueDate; otherwise someone edited one of them.
        if (typeof parsed === 'string' || parsed.iso !== a.valueDate) {
          issues.push(issue('invariant', `original text '${original}' does not match valueDate ${a.valueDate}`, path));
        }
        return original;
      }
      return a.valueDate;
    }
    case 'dateTime':
      return a.valueDateTime;
    case 'choice':
      return a.valueCoding?.code;
    default:
      issues.push(
        issue('not-supported', `item type ${item.type} of ${item.linkId} is not supported by the mapping engine`, path),
      );
      return undefined;
  }
}
