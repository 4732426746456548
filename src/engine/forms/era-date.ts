// Japanese era dates (和暦) ⇄ ISO dates. The paper forms print 明/大/昭/平/令 dates, often approximate
// ("令和3年4月頃"). We parse them to an ISO date of the precision given and keep the original text elsewhere,
// so nothing is normalised away. Era boundaries are checked with ICU's Japanese calendar (Intl), not a hand table
// of boundary days.

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

const ERA_RE =
  /^(明治|大正|昭和|平成|令和|明|大|昭|平|令|[MTSHR])\s*(元|[0-9０-９]{1,2})\s*年(?:\s*([0-9０-９]{1,2})\s*月(?:\s*([0-9０-９]{1,2})\s*日)?)?\s*(頃)?$/;
const ISO_RE = /^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$/;

const toHalfWidth = (s: string): string => s.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

export interface ParsedDate {
  /** FHIR date of the precision given: YYYY, YYYY-MM or YYYY-MM-DD. */
  iso: string;
  /** True when the input was an era date (its text must be kept to give it back exactly). */
  era: boolean;
  approximate: boolean;
}

const daysInMonth = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const eraFormatter = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', { era: 'long', timeZone: 'UTC' });
function eraOf(y: number, m: number, d: number): string {
  const part = eraFormatter.formatToParts(new Date(Date.UTC(y, m - 1, d))).find((p) => p.type === 'era');
  return part?.value ?? '';
}

/** Parse an ISO (partial) date or a Japanese era date. Returns a reason string when impossible. */
export function parseDate(text: string): ParsedDate | string {
  const iso = ISO_RE.exec(text);
  if (iso) {
    const y = Number(iso[1]);
    const m = iso[2] === undefined ? undefined : Number(iso[2]);
    const d = iso[3] === undefined ? undefined : Number(iso[3]);
    if (m !== undefined && (m < 1 || m > 12)) return `month ${m} does not exist`;
    if (m !== undefined && d !== undefined && (d < 1 || d > daysInMonth(y, m))) return `${text} does not exist`;
    return { iso: text, era: false, approximate: false };
  }
  const e = ERA_RE.exec(text.trim());
  if (!e) return 'expected YYYY-MM-DD (or YYYY-MM, YYYY) or a Japanese era date such as 昭和15年3月1日';
  const era = ERAS[ALIASES[e[1]!] ?? e[1]!]!;
  const n = e[2] === '元' ? 1 : Number(toHalfWidth(e[2]!));
  if (n < 1) return `${era.name}${n}年 does not exist`;
  const y = era.firstYear + n - 1;
  const m = e[3] === undefined ? undefined : Number(toHalfWidth(e[3]));
  const d = e[4] === undefined ? undefined : Number(toHalfWidth(e[4]));
  if (m !== undefined && (m < 1 || m > 12)) return `month ${m} does not exist`;
  if (m !== undefined && d !== undefined && (d < 1 || d > daysInMonth(y, m))) return `${text} does not exist`;
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

const DATETIME_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** Check an ISO date-time with an offset; the text itself is kept exactly as received. */
export function checkDateTime(text: string): string | undefined {
  const m = DATETIME_RE.exec(text);
  if (!m) return 'expected an ISO date-time with an offset, e.g. 2026-11-20T10:15:00+09:00';
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysInMonth(y!, mo!) || h! > 23 || mi! > 59 || s! > 60)
    return `${text} does not exist`;
  return undefined;
}
