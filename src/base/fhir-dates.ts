// The R4 date and time primitives (datatypes page): date, dateTime, instant and time by the spec's own regexes,
// plus what a regex cannot say ("Dates SHALL be valid dates": no 2023-02-29), the looser format of a date search
// value (search page), and the implicit range of time a value of some precision stands for, which is what a date
// search compares. One grammar for every place that reads a date: the payload schemas, the mapping engine, the
// QuestionnaireResponse validator and search parsing. Pure: no I/O, the local zone passed in (systemOffsetAt, the
// gateway's configured offset from clock.ts, is the only thing it takes from the rest of the project).
import { timeOffsetMinutes } from './clock.js';

export type FhirTemporalType = 'date' | 'dateTime' | 'instant' | 'time';

/** The `regex` of date.value, dateTime.value, instant.value and time.value in the R4 StructureDefinitions, verbatim. */
export const R4_REGEX: Readonly<Record<FhirTemporalType, string>> = {
  date: '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?',
  dateTime:
    '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?',
  instant:
    '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))',
  time: '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?',
};

/**
 * A date search value (R4 search page, "date"): any precision of the dateTime format from the left, except that
 * "Time can consist of hours and minutes with no seconds" and the offset is a SHOULD, not a SHALL. It is the
 * dateTime regex with the seconds and the offset made optional, and it also covers every date and instant.
 */
export const SEARCH_DATE_REGEX =
  '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\\.[0-9]+)?)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?)?)?)?';

/**
 * The whole-value pattern (for a JSON Schema `pattern` or a RegExp). The R4 regexes have no top-level `|`, so
 * anchoring them needs no extra group and the payload schemas show the spec's text unchanged between ^ and $.
 */
export const wholeValuePattern = (type: FhirTemporalType): string => `^${R4_REGEX[type]}$`;

const COMPILED: Readonly<Record<FhirTemporalType | 'search', RegExp>> = {
  date: new RegExp(wholeValuePattern('date')),
  dateTime: new RegExp(wholeValuePattern('dateTime')),
  instant: new RegExp(wholeValuePattern('instant')),
  time: new RegExp(wholeValuePattern('time')),
  search: new RegExp(`^${SEARCH_DATE_REGEX}$`),
};

const isLeapYear = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days in month `m` (1–12) of year `y` in the proleptic Gregorian calendar, which ISO 8601 (and so FHIR) uses. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

type Grammar = FhirTemporalType | 'search';

const FORMAT: Readonly<Record<Grammar, string>> = {
  date: 'YYYY, YYYY-MM or YYYY-MM-DD',
  dateTime: 'YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss] with an offset (Z or ±hh:mm)',
  instant: 'YYYY-MM-DDThh:mm:ss[.sss] with an offset (Z or ±hh:mm)',
  time: 'hh:mm:ss[.sss] with no offset',
  search: 'YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|±hh:mm]]]]',
};
const NAME: Readonly<Record<Grammar, string>> = {
  date: 'an R4 date',
  dateTime: 'an R4 dateTime',
  instant: 'an R4 instant',
  time: 'an R4 time',
  search: 'a date search value',
};

/** What each grammar asks of the parts after the date (the regexes say the same; this only explains a mismatch). */
const RULES: Readonly<
  Record<'date' | 'dateTime' | 'instant' | 'search', { time: 'no' | 'may' | 'must'; strict: boolean }>
> = {
  date: { time: 'no', strict: true },
  dateTime: { time: 'may', strict: true },
  instant: { time: 'must', strict: true },
  search: { time: 'may', strict: false },
};

// Loose shapes, matched only once the official regex has failed, to say which part is wrong.
const LOOSE_DATE =
  /^([0-9]+)(?:-([0-9]+)(?:-([0-9]+))?)?(?:([T ])([0-9]+)(?::([0-9]+)(?::([0-9]+)(\.[0-9]*)?)?)?)?(Z|[+-].*)?$/;
const LOOSE_TIME = /^([0-9]+)(?::([0-9]+)(?::([0-9]+)(\.[0-9]*)?)?)?(Z|[+-].*)?$/;
const OFFSET = /^(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/;

function explainTime(
  h: string,
  mi: string | undefined,
  s: string | undefined,
  frac: string | undefined,
  secondsRequired: boolean,
): string | undefined {
  if (h === '24') return '24:00 is not a time of day (hours run 00–23)';
  if (!/^([01][0-9]|2[0-3])$/.test(h)) return `there is no hour ${h} (hours run 00–23, two digits)`;
  if (mi === undefined) return 'a time needs minutes';
  if (!/^[0-5][0-9]$/.test(mi)) return `there is no minute ${mi} (minutes run 00–59, two digits)`;
  if (s === undefined)
    return secondsRequired ? `a time needs seconds (${h}:${mi}:00 if they are not known)` : undefined;
  if (!/^([0-5][0-9]|60)$/.test(s)) return `there is no second ${s} (seconds run 00–60, two digits)`;
  if (frac === '.') return 'a decimal point needs digits after it';
  return undefined;
}

/** Why a text that failed the regex of `g` is not of that grammar, as precisely as the loose shapes allow. */
function explain(g: Grammar, text: string): string | undefined {
  if (g === 'time') {
    const t = LOOSE_TIME.exec(text);
    if (!t) return undefined;
    if (t[5] !== undefined) return 'a time has no offset';
    return explainTime(t[1]!, t[2], t[3], t[4], true);
  }
  const m = LOOSE_DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, sep, h, mi, s, frac, off] = m;
  const rules = RULES[g];
  if (y!.length !== 4) return 'the year needs four digits';
  if (y === '0000') return 'there is no year 0000';
  if (mo !== undefined && !/^(0[1-9]|1[0-2])$/.test(mo)) return `there is no month ${mo} (months run 01–12)`;
  if (d !== undefined && !/^(0[1-9]|[12][0-9]|3[01])$/.test(d)) return `there is no day ${d} (days run 01–31)`;
  if (rules.time === 'no' && (h !== undefined || off !== undefined)) return 'a date has no time and no offset';
  if (rules.time === 'must' && (d === undefined || h === undefined))
    return 'an instant needs a full date and a time with seconds and an offset';
  if (h !== undefined && d === undefined) return 'a time needs a full date before it (YYYY-MM-DDThh:mm)';
  if (sep === ' ') return 'the date and the time are joined by T, not a space';
  if (h !== undefined) {
    const why = explainTime(h, mi, s, frac, rules.strict);
    if (why) return why;
  }
  if (off === undefined)
    return h !== undefined && rules.strict ? 'a time needs an offset: Z or ±hh:mm, e.g. +09:00' : undefined;
  if (h === undefined) return 'an offset needs a time before it';
  if (!OFFSET.test(off)) return `offset ${off} is not Z or ±hh:mm from -14:00 to +14:00`;
  return undefined;
}

/** The calendar check the regexes cannot make; `text` already matched a date-bearing grammar. */
function calendarProblem(text: string): string | undefined {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = daysInMonth(y, mo);
  return d > days ? `there is no day ${m[3]} in ${m[1]}-${m[2]}, which has ${days} days` : undefined;
}

function problem(g: Grammar, text: string): string | undefined {
  if (COMPILED[g].test(text)) {
    const why = g === 'time' ? undefined : calendarProblem(text);
    return why && `not ${NAME[g]}: ${why}`;
  }
  const why = explain(g, text);
  return why ? `not ${NAME[g]}: ${why}` : `not ${NAME[g]}; expected ${FORMAT[g]}`;
}

/**
 * Why `text` is not a valid value of the R4 primitive `type` (regex, then calendar), or undefined when it is.
 * The reason names no value; callers say `'<value>': <reason>` so every place reports a date the same way.
 * Leap seconds (:60) are allowed wherever the regex allows them, as the spec does.
 */
export const fhirTemporalProblem = (type: FhirTemporalType, text: string): string | undefined => problem(type, text);

export const isFhirTemporal = (type: FhirTemporalType, text: string): boolean =>
  fhirTemporalProblem(type, text) === undefined;

/** Why `text` (without its eq/lt/… prefix) is not a date search value, or undefined when it is one. */
export const searchDateProblem = (text: string): string | undefined => problem('search', text);

/** Minutes east of UTC in force at an instant (epoch milliseconds) in the zone offset-less values are read in. */
export type OffsetAt = (instantMs: number) => number;

/** A span of time [low, high) in epoch milliseconds. */
export interface InstantRange {
  low: number;
  high: number;
}

const MS = { second: 1000, minute: 60_000, day: 86_400_000 } as const;
// 400 Gregorian years are exactly 146097 days; shifting by them keeps Date.UTC away from its 0–99 → 1900s rule.
const YEARS_400_MS = 146_097 * MS.day;
const utc = (y: number, mo: number, d = 1, h = 0, mi = 0, s = 0, ms = 0): number =>
  Date.UTC(y + 400, mo - 1, d, h, mi, s, ms) - YEARS_400_MS;

/**
 * The span a date search value (any date, dateTime or instant too) stands for at its precision, [low, high):
 * `2024` is the whole year, `2024-04-01T10:15` that minute, `…:00.5` that millisecond (finer fractions widen to a
 * millisecond). An offset in the value is honoured. A value without one is local time, as the search page says
 * ("the server's local time zone should be assumed"): it is read in the zone `localOffsetAt` describes. Returns
 * undefined for anything searchDateProblem refuses. A leap second :60 is taken as the first second of the next
 * minute, which is where a clock without leap seconds puts it.
 */
export function searchRange(text: string, localOffsetAt: OffsetAt): InstantRange | undefined {
  if (searchDateProblem(text) !== undefined) return undefined;
  const m =
    /^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?)?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$/.exec(
      text,
    )!;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => (m[i] === undefined ? undefined : Number(m[i])));
  const frac = m[7];
  const off = m[8];
  let low: number;
  let high: number;
  if (mo === undefined) [low, high] = [utc(y!, 1), utc(y! + 1, 1)];
  else if (d === undefined) [low, high] = [utc(y!, mo), utc(y!, mo + 1)];
  else if (h === undefined) [low, high] = [utc(y!, mo, d), utc(y!, mo, d) + MS.day];
  else if (s === undefined) [low, high] = [utc(y!, mo, d, h, mi), utc(y!, mo, d, h, mi) + MS.minute];
  else if (frac === undefined) [low, high] = [utc(y!, mo, d, h, mi, s), utc(y!, mo, d, h, mi, s) + MS.second];
  else {
    low = utc(y!, mo, d, h, mi, s, Number(frac.slice(0, 3).padEnd(3, '0')));
    high = low + (frac.length < 3 ? 10 ** (3 - frac.length) : 1);
  }
  if (off !== undefined) {
    const minutes = off === 'Z' ? 0 : (off[0] === '-' ? -1 : 1) * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4)));
    return { low: low - minutes * MS.minute, high: high - minutes * MS.minute };
  }
  return { low: localToInstant(low, localOffsetAt), high: localToInstant(high, localOffsetAt) };
}

/** A wall-clock time (as if it were UTC) in the zone → the instant; the second step corrects across a DST change. */
function localToInstant(wall: number, offsetAt: OffsetAt): number {
  const guess = wall - offsetAt(wall) * MS.minute;
  return wall - offsetAt(guess) * MS.minute;
}

/**
 * The gateway's own offset (KAIGO_TIME_OFFSET, +540 by default), the one it writes instants in (clock.ts): never the
 * machine's TZ, so what is written and how a search reads a value without an offset always agree.
 */
export const systemOffsetAt: OffsetAt = () => timeOffsetMinutes();

/** A zone with one offset all year (Japan has had no daylight saving time since 1951). */
export const fixedOffset =
  (minutes: number): OffsetAt =>
  () =>
    minutes;
