// Instants the gateway writes (meta.lastUpdated, Bundle.timestamp, DocumentReference.date) carry the local
// offset (+09:00 in Japan) rather than Z, so they read the same as the dates around them.
export function isoWithOffset(d: Date = new Date()): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const local = new Date(d.getTime() + off * 60_000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${local.toISOString().slice(0, 23)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export type Clock = () => string;
export const systemClock: Clock = () => isoWithOffset();
