// Dot paths into care-form payloads ("header.applicant.name"). Pure helpers; no array indices in paths:
// repeating groups are arrays and paths below them are relative to one element.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function getPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const key of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

export function setPath(root: JsonObject, path: string, value: Json): void {
  const keys = path.split('.');
  let cur = root;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (isObject(next)) cur = next;
    else {
      const created: JsonObject = {};
      cur[key] = created;
      cur = created;
    }
  }
  cur[keys[keys.length - 1]!] = value;
}

export const joinPath = (base: string, rel: string): string => (base ? `${base}.${rel}` : rel);
