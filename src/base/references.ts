// Reference rewriting, shared by document assembly (urn:uuid inside a document Bundle, Type/id when stored
// on its own) and transaction processing (urn:uuid fullUrls → assigned ids).

/** Returns a deep copy in which every `reference` found in `map` is replaced. */
export function rewriteReferences<T>(value: T, map: ReadonlyMap<string, string>): T {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, map)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === 'reference' && typeof v === 'string' && map.has(v) ? map.get(v) : rewriteReferences(v, map);
    }
    return out as T;
  }
  return value;
}

/** Every `reference` string inside a resource, with its FHIRPath-like location. */
export function collectReferences(
  value: unknown,
  path: string,
  out: Array<{ path: string; reference: string }> = [],
): Array<{ path: string; reference: string }> {
  if (Array.isArray(value)) value.forEach((v, i) => collectReferences(v, `${path}[${i}]`, out));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push({ path: `${path}.reference`, reference: v });
      else collectReferences(v, `${path}.${k}`, out);
    }
  }
  return out;
}
