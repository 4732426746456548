// Instants the gateway writes (meta.lastUpdated, Bundle.timestamp, DocumentReference.date) carry the gateway's
// offset, +09:00 by default, rather than Z, so they read the same as the dates around them. The offset is a setting
// (KAIGO_TIME_OFFSET), never the machine's TZ: a container or a CI runner in UTC must not start writing +00:00.
// Japan has had one offset all year since 1951, so a fixed offset is the whole of its time zone.

/** Minutes east of UTC: +540 for +09:00. */
let offsetMinutes = 9 * 60;

/** `+09:00`, `-03:30`, `Z` (or `+00:00`) → minutes east of UTC; undefined for anything else. */
export function parseOffset(text: string): number | undefined {
  if (text === 'Z') return 0;
  const m = /^([+-])(0[0-9]|1[0-4]):([0-5][0-9])$/.exec(text);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (minutes > 14 * 60) return undefined; // UTC+14:00 is the furthest any zone goes
  return m[1] === '-' ? -minutes : minutes;
}

export function formatOffset(minutes: number): string {
  const abs = Math.abs(minutes);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Sets the offset every instant the process writes from now on carries (the server and CLI call it at start). */
export function setTimeOffset(text: string): void {
  const minutes = parseOffset(text);
  if (minutes === undefined) throw new Error(`a time offset must look like +09:00 or Z, got ${JSON.stringify(text)}`);
  offsetMinutes = minutes;
}

/** The configured offset in minutes east of UTC. */
export const timeOffsetMinutes = (): number => offsetMinutes;

/** `d` as an instant in the configured offset, e.g. 2024-04-01T10:15:00.000+09:00. */
export function isoWithOffset(d: Date = new Date()): string {
  const local = new Date(d.getTime() + offsetMinutes * 60_000);
  return `${local.toISOString().slice(0, 23)}${formatOffset(offsetMinutes)}`;
}

export type Clock = () => string;
export const systemClock: Clock = () => isoWithOffset();
