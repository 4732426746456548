// Dates in generated documents: a sample's dates move by whole months (end of month stays end of month, so a
// validity period 05-01…04-30 stays a whole-month period) and are written back in the sample's own style — ISO,
// or a Japanese era date with the era spelled as the sample spells it (令和 / 令 / R), half- or full-width digits,
// and 頃 when approximate. The era of the new date is the calendar's (ICU), so 2019-04 becomes 平成31年4月.
import { toFullWidthDigits } from './names.js';

export type DateStyle =
  { kind: 'iso' } | { kind: 'era'; spelling: 'long' | 'short' | 'latin'; fullWidth: boolean; approximate: boolean };

const ISO_DATE = /^([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?$/;
const ERA_DATE =
  /^(明治|大正|昭和|平成|令和|明|大|昭|平|令|[MTSHR])(元|[0-9０-９]{1,2})年([0-9０-９]{1,2})月(?:([0-9０-９]{1,2})日)?(頃)?$/;

const ERAS = [
  { long: '明治', latin: 'M', firstYear: 1868 },
  { long: '大正', latin: 'T', firstYear: 1912 },
  { long: '昭和', latin: 'S', firstYear: 1926 },
  { long: '平成', latin: 'H', firstYear: 1989 },
  { long: '令和', latin: 'R', firstYear: 2019 },
] as const;

const halfWidth = (s: string): string => s.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
export const daysInMonth = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();
const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * A payload string that is a date of at least month precision: its ISO form and how it is written. Year-only
 * values are left alone (they are as likely to be codes as dates).
 */
export function readDate(text: string): { iso: string; style: DateStyle } | undefined {
  if (ISO_DATE.test(text)) return { iso: text, style: { kind: 'iso' } };
  const m = ERA_DATE.exec(text);
  if (!m) return undefined;
  const era = ERAS.find((e) => e.long === m[1] || e.latin === m[1] || e.long[0] === m[1])!;
  const n = m[2] === '元' ? 1 : Number(halfWidth(m[2]!));
  const y = era.firstYear + n - 1;
  const iso = `${y}-${pad2(Number(halfWidth(m[3]!)))}${m[4] === undefined ? '' : `-${pad2(Number(halfWidth(m[4])))}`}`;
  const spelling = m[1] === era.long ? 'long' : m[1] === era.latin ? 'latin' : 'short';
  return { iso, style: { kind: 'era', spelling, fullWidth: /[０-９]/.test(text), approximate: m[5] !== undefined } };
}

/** Move an ISO date of month or day precision by `months`. */
export function shiftMonths(iso: string, months: number): string {
  const m = ISO_DATE.exec(iso);
  if (!m) throw new Error(`not an ISO date of month or day precision: ${iso}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const total = y * 12 + (mo - 1) + months;
  const ny = Math.floor(total / 12);
  const nmo = (total % 12) + 1;
  const head = `${String(ny).padStart(4, '0')}-${pad2(nmo)}`;
  if (m[3] === undefined) return head;
  const d = Number(m[3]);
  const nd = d === daysInMonth(y, mo) ? daysInMonth(ny, nmo) : Math.min(d, daysInMonth(ny, nmo));
  return `${head}-${pad2(nd)}`;
}

/** Months from the month of `from` to the month of `to`. */
export const monthsBetween = (from: string, to: string): number =>
  (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));

const eraName = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', { era: 'long', timeZone: 'UTC' });

export function writeDate(iso: string, style: DateStyle): string {
  if (style.kind === 'iso') return iso;
  const [y, mo, d] = iso.split('-').map(Number) as [number, number, number | undefined];
  // The era the day (or the first day of the month) falls in; a month that straddles two eras still overlaps
  // the one it starts in, which is what the engine's era check asks for.
  const name = eraName.formatToParts(new Date(Date.UTC(y, mo - 1, d ?? 1))).find((p) => p.type === 'era')?.value;
  const era = ERAS.find((e) => e.long === name);
  if (!era) throw new Error(`no era for ${iso}`);
  const n = y - era.firstYear + 1;
  const spelled = style.spelling === 'long' ? era.long : style.spelling === 'latin' ? era.latin : era.long[0];
  const digits = (x: number): string => (style.fullWidth ? toFullWidthDigits(String(x)) : String(x));
  return `${spelled}${n === 1 ? '元' : digits(n)}年${digits(mo)}月${d === undefined ? '' : `${digits(d)}日`}${style.approximate ? '頃' : ''}`;
}
