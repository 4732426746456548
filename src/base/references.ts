// Reference rewriting, shared by document assembly (urn:uuid inside a document Bundle, Type/id when stored
// on its own) and transaction processing (urn:uuid fullUrls → assigned ids), and the shapes a reference may take.

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

/** The kinds of Reference.reference a client may send. */
export type ReferenceShape =
  | { kind: 'relative'; type: string; id: string }
  | { kind: 'absolute' }
  | { kind: 'urn-uuid' }
  | { kind: 'contained'; id: string };

const RELATIVE = /^([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const URN_UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const CONTAINED = /^#([A-Za-z0-9\-.]{1,64})?$/;
const DOTS_ONLY = /^\.+$/;

/**
 * What a reference string is, or why it is none of the R4 forms: a relative `Type/id` (optionally
 * `/_history/vid`), an absolute http(s) URL, a `urn:uuid:` (only meaningful inside a Bundle) or `#id` of a contained
 * resource. An id made of dots only is refused although the id grammar allows it: as a URL path segment it is a
 * dot-segment, so `Organization/..` would name the base itself.
 */
export function referenceShape(ref: string): ReferenceShape | { problem: string } {
  const rel = RELATIVE.exec(ref);
  if (rel) {
    if (DOTS_ONLY.test(rel[2]!) || (rel[3] !== undefined && DOTS_ONLY.test(rel[3])))
      return { problem: 'a resource id made only of dots is a URL dot-segment, not an id' };
    return { kind: 'relative', type: rel[1]!, id: rel[2]! };
  }
  if (URN_UUID.test(ref)) return { kind: 'urn-uuid' };
  const local = CONTAINED.exec(ref);
  if (local) return { kind: 'contained', id: local[1] ?? '' };
  if (/^https?:\/\//.test(ref)) {
    if (/[\s<>"{}|\\^`]/.test(ref)) return { problem: 'an absolute URL may not contain spaces or <>"{}|\\^`' };
    try {
      const u = new URL(ref);
      if (u.hostname !== '' && u.username === '' && u.password === '') return { kind: 'absolute' };
    } catch {
      /* falls through to the problem below */
    }
    return { problem: 'not a valid absolute http(s) URL' };
  }
  return {
    problem:
      'a reference is Type/id (a resource type and an id of 1-64 letters, digits, "-" or "."), an absolute http(s) URL, urn:uuid:<uuid> inside a Bundle, or #id of a contained resource',
  };
}
