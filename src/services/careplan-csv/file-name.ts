// File names of the standard: <TYPE>_[YYYYMM_]<送信元事業所番号10>_<送信元サービス種類2>_<送信先事業所番号10>_<送信先サービス種類2>_<YYYYMMDDHHMMSS>.CSV
import { unprocessable } from '../../base/outcome.js';
import type { Layout } from './layout.js';

export interface CareplanFileName {
  type: string;
  /** 対象年月 YYYYMM (or 000000 for UPHOSOKU bound to 第1表); absent for types without it */
  month?: string;
  senderOffice: string;
  senderServiceType: string;
  receiverOffice: string;
  receiverServiceType: string;
  /** YYYYMMDDHHMMSS: the send unit's time stamp */
  timestamp: string;
}

const SERVICE = '([0-9A-Z]{2})';
const OFFICE = '([0-9]{10})';

export function parseFileName(name: string, layouts: ReadonlyMap<string, Layout>): CareplanFileName {
  const m = new RegExp(
    `^([A-Z0-9]+)_(?:([0-9]{6})_)?${OFFICE}_${SERVICE}_${OFFICE}_${SERVICE}_([0-9]{14})\\.CSV$`,
  ).exec(name);
  if (!m)
    throw unprocessable(
      `${name}: not a file name of the care-plan standard (<TYPE>_[YYYYMM_]<事業所番号10>_<種類2>_<事業所番号10>_<種類2>_<YYYYMMDDHHMMSS>.CSV)`,
      name,
    );
  const [, type, month, senderOffice, senderServiceType, receiverOffice, receiverServiceType, timestamp] = m;
  const layout = layouts.get(type!);
  if (!layout)
    throw unprocessable(
      `${name}: file type ${type} is not supported here; known: ${[...layouts.keys()].join(', ')}`,
      name,
    );
  const wantsMonth = layout.fileNameMonth !== 'none';
  if (wantsMonth !== (month !== undefined))
    throw unprocessable(
      `${name}: a ${type} file name ${wantsMonth ? 'needs' : 'has no'} 対象年月 (YYYYMM) after the type`,
      name,
    );
  if (
    month !== undefined &&
    !(layout.fileNameMonth === 'target-month-or-zero' && month === '000000') &&
    !validMonth(month)
  )
    throw unprocessable(`${name}: 対象年月 ${month} is not a month`, name);
  if (!validTimestamp(timestamp!)) throw unprocessable(`${name}: time stamp ${timestamp} is not a date and time`, name);
  return {
    type: type!,
    ...(month !== undefined ? { month } : {}),
    senderOffice: senderOffice!,
    senderServiceType: senderServiceType!,
    receiverOffice: receiverOffice!,
    receiverServiceType: receiverServiceType!,
    timestamp: timestamp!,
  };
}

export const formatFileName = (f: CareplanFileName): string =>
  `${f.type}_${f.month !== undefined ? `${f.month}_` : ''}${f.senderOffice}_${f.senderServiceType}_${f.receiverOffice}_${f.receiverServiceType}_${f.timestamp}.CSV`;

export const validMonth = (s: string): boolean =>
  /^[0-9]{6}$/.test(s) && Number(s.slice(4)) >= 1 && Number(s.slice(4)) <= 12;

export function validDate(s: string): boolean {
  if (!/^[0-9]{8}$/.test(s)) return false;
  const y = Number(s.slice(0, 4));
  const mo = Number(s.slice(4, 6));
  const d = Number(s.slice(6));
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

function validTimestamp(s: string): boolean {
  const [h, mi, se] = [Number(s.slice(8, 10)), Number(s.slice(10, 12)), Number(s.slice(12))];
  return validDate(s.slice(0, 8)) && h < 24 && mi < 60 && se < 60;
}

/** Processing order of the standard (§2.5): by time stamp; within one time stamp by the layouts' `order`. */
export const fileComparator =
  (layouts: ReadonlyMap<string, Layout>) =>
  (a: CareplanFileName, b: CareplanFileName): number =>
    a.timestamp.localeCompare(b.timestamp) ||
    (layouts.get(a.type)?.order ?? 0) - (layouts.get(b.type)?.order ?? 0) ||
    (a.month ?? '').localeCompare(b.month ?? '');
