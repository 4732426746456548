// Japanese era dates (和暦) ⇄ ISO dates. The paper forms print 明/大/昭/平/令 dates, often approximate
// ("令和3年4月頃"). We parse them to an ISO date of the precision given and keep the original text elsewhere,
// so nothing is normalised away. Era boundaries are checked with ICU's Japanese calendar (Intl), not a hand table
// of boundary days. An ISO date is an R4 date by the one grammar of base/fhir-dates.ts.
import { daysInMonth, fhirTemporalProblem } from '../../base/fhir-dates.js';

const ISO_FORMAT = 'YYYY, YYYY-MM or YYYY-MM-DD';

const ERAS: Record<string, { name: string; firstYear: number }> = {
  明治: { name: '明治', firstYear: 1868 },
  大正: { name: '大正', firstYear: 1912 },
  昭和: { name: '昭和', firstYear: 1926 },
  平成: { name: '平成', firstYear: 1989 },
  令和: { name: '令和', firstYear: 2019 },
};
const ALIASES: Record<string, string> = {
  明: '明治',
  大: '大正',
  昭: '昭和',
  平: '平成',
  令: '令和',
  M: '明治',
  T: '大正',
  S: '昭和',
  H: '平成',
  R: '令和',
};

/**
 * An era date as the payload may give it: era (name, one-character or Latin abbreviation), year (元 or up to two
 * digits, full-width allowed), optional month and day, optional 頃 (approximate). Spaces may separate the parts and
 * follow the date. The payload schema uses this same text in its `pattern`, so both refuse exactly the same texts.
 */
export const ERA_DATE_REGEX =
  '(明治|大正|昭和|平成|令和|明|大|昭|平|令|[MTSHR])\\s*(元|[0-9０-９]{1,2})\\s*年(?:\\s*([0-9０-９]{1,2})\\s*月(?:\\s*([0-9０-９]{1,2})\\s*日)?)?\\s*(頃)?\\s*';
const ERA_RE = new RegExp(`^${ERA_DATE_REGEX}$`);

const toHalfWidth = (s: string): string => s.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

export interface ParsedDate {
  /** FHIR date of the precision given: YYYY, YYYY-MM or YYYY-MM-DD. */
  iso: string;
  /** True when the input was an era date (its text must be kept to give it back exactly). */
  era: boolean;
  approximate: boolean;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const eraFormatter = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', { era: 'long', timeZone: 'UTC' });
function eraOf(y: number, m: number, d: number): string {
  const part = eraFormatter.formatToParts(new Date(Date.UTC(y, m - 1, d))).find((p) => p.type === 'era');
  return part?.value ?? '';
}

/**
 * Parse an R4 date (YYYY, YYYY-MM, YYYY-MM-DD; the base grammar, calendar included) or a Japanese era date.
 * Returns a reason string when impossible; a text that starts like an ISO date gets the R4 date's reason.
 */
export function parseDate(text: string): ParsedDate | string {
  if (/^[0-9]/.test(text)) {
    const problem = fhirTemporalProblem('date', text);
    return problem ?? { iso: text, era: false, approximate: false };
  }
  const e = ERA_RE.exec(text);
  if (!e) return `not an R4 date (${ISO_FORMAT}) nor a Japanese era date such as 昭和15年3月1日`;
  const era = ERAS[ALIASES[e[1]!] ?? e[1]!]!;
  const n = e[2] === '元' ? 1 : Number(toHalfWidth(e[2]!));
  if (n < 1) return `${era.name}${n}年 does not exist`;
  const y = era.firstYear + n - 1;
  const m = e[3] === undefined ? undefined : Number(toHalfWidth(e[3]));
  const d = e[4] === undefined ? undefined : Number(toHalfWidth(e[4]));
  if (m !== undefined && (m < 1 || m > 12)) return `month ${m} does not exist`;
  if (m !== undefined && d !== undefined && (d < 1 || d > daysInMonth(y, m)))
    return `there is no day ${d} in ${era.name}${n}年${m}月 (${pad(y, 4)}-${pad(m)}), which has ${daysInMonth(y, m)} days`;
  // The period named must overlap the era: its last day must not fall before the era began and its first day
  // must not fall after the era ended (昭和64年1月8日 and 令和元年4月 are impossible).
  const first = { m: m ?? 1, d: d ?? 1 };
  const last = { m: m ?? 12, d: d ?? daysInMonth(y, m ?? 12) };
  if (eraOf(y, last.m, last.d) !== era.name && eraOf(y, first.m, first.d) !== era.name) {
    return `${text} is outside the ${era.name} era`;
  }
  if (d !== undefined && eraOf(y, m!, d) !== era.name) return `${text} is outside the ${era.name} era`;
  const isoText =
    m === undefined ? pad(y, 4) : d === undefined ? `${pad(y, 4)}-${pad(m)}` : `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
  return { iso: isoText, era: true, approximate: e[5] !== undefined };
}
