// What the R4 JSON schema's regexes cannot say about a primitive value, checked once the regex has passed:
// a real calendar date (no 2023-02-30), integer ranges (JSON numbers carry no integer type), and the
// non-whitespace content of strings.

/** Days in a month of the proleptic Gregorian calendar (R4 dates are XML Schema dates). */
function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const ymd = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/;

/** For date, dateTime and instant values that match their R4 regex: is the day one the month has? */
export function isCalendarDate(value: string): boolean {
  const m = ymd.exec(value);
  if (!m || m[3] === undefined) return true; // a year or year-month has no day to check
  return Number(m[3]) <= daysIn(Number(m[1]), Number(m[2]));
}

const INT32 = 2 ** 31;

/** R4 integer is 32-bit signed; positiveInt ≥ 1, unsignedInt ≥ 0 (both up to 2^31 − 1). */
export function integerProblem(type: string, v: number): string | undefined {
  if (!Number.isInteger(v)) return `Expected an integer, got ${v}`;
  if (v < -INT32 || v >= INT32) return `Integer ${v} is out of the 32-bit range`;
  if (type === 'positiveInt' && v < 1) return `A positiveInt must be ≥ 1, got ${v}`;
  if (type === 'unsignedInt' && v < 0) return `An unsignedInt must be ≥ 0, got ${v}`;
  return undefined;
}

export const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt']);
export const DATE_TYPES = new Set(['date', 'dateTime', 'instant']);
/** Free-text types whose regex (`[ \r\n\t\S]+`) admits whitespace only. */
export const TEXT_TYPES = new Set(['string', 'markdown']);

/**
 * R4 (datatypes.html#string): "strings SHOULD always contain non-whitespace content"; this gateway refuses a
 * value of only spaces/tabs/line breaks (a blank form box is sent as absent). Whitespace is XML Schema's four
 * characters: a value of one U+3000 (全角スペース) is content.
 */
export const hasContent = (v: string): boolean => v.charCodeAt(0) > 32 || /[^ \t\r\n]/.test(v);
