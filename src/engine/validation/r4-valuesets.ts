// Local expansion of the R4 ValueSets that core elements bind with strength `required`.
// Only what can be expanded exactly from the shipped definitions is expanded: a whole CodeSystem, an
// enumerated concept list, other ValueSets (recursively), and concept excludes. A filter, a CodeSystem that
// is not shipped (UCUM, BCP-13 mime types, ISO 4217 …) or a missing ValueSet makes the expansion unknown:
// its bindings are then noted as unchecked (model.unexpandable), never refused.
import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from 'fhir/r4.js';

export type Expansion = { codes: string[] } | { unknown: string };

const stripVersion = (url: string): string => url.split('|')[0] ?? url;

/** A concept flagged notSelectable/abstract is a heading (item-type `question`), not a value an instance may use. */
function selectable(c: CodeSystemConcept): boolean {
  return !(c.property ?? []).some((p) => (p.code === 'notSelectable' || p.code === 'abstract') && p.valueBoolean);
}

function allCodes(system: string, concepts: readonly CodeSystemConcept[] | undefined, into: string[]): void {
  for (const c of concepts ?? []) {
    if (selectable(c)) into.push(`${system}|${c.code}`);
    allCodes(system, c.concept, into);
  }
}

export function createExpander(resources: readonly (ValueSet | CodeSystem)[]): (url: string) => Expansion {
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const r of resources) {
    if (r.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
    if (r.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
  }
  const cache = new Map<string, Expansion>();

  const include = (inc: ValueSetComposeInclude, stack: readonly string[]): Expansion => {
    if (inc.filter?.length) return { unknown: `include.filter on ${inc.system ?? '?'}` };
    let codes: string[] | undefined;
    if (inc.system !== undefined) {
      if (inc.concept?.length) codes = inc.concept.map((c) => `${inc.system}|${c.code}`);
      else {
        const cs = codeSystems.get(inc.system);
        if (!cs) return { unknown: `CodeSystem ${inc.system} is not available locally` };
        if (cs.content !== 'complete') return { unknown: `CodeSystem ${inc.system} is ${cs.content}, not complete` };
        codes = [];
        allCodes(inc.system, cs.concept, codes);
      }
    }
    for (const ref of inc.valueSet ?? []) {
      const other = expand(stripVersion(ref), stack);
      if ('unknown' in other) return other;
      const set = new Set(other.codes);
      codes = codes === undefined ? other.codes : codes.filter((c) => set.has(c));
    }
    return { codes: codes ?? [] };
  };

  const expand = (url: string, stack: readonly string[]): Expansion => {
    const hit = cache.get(url);
    if (hit) return hit;
    if (stack.includes(url)) return { unknown: `ValueSet ${url} includes itself` };
    const vs = valueSets.get(url);
    let out: Expansion;
    if (!vs) out = { unknown: `ValueSet ${url} is not available locally` };
    else if (!vs.compose) out = { unknown: `ValueSet ${url} has no compose` };
    else {
      const codes = new Set<string>();
      out = { codes: [] };
      for (const inc of vs.compose.include) {
        const part = include(inc, [...stack, url]);
        if ('unknown' in part) {
          out = part;
          break;
        }
        for (const c of part.codes) codes.add(c);
      }
      for (const exc of vs.compose.exclude ?? []) {
        if ('unknown' in out) break;
        if (exc.filter?.length || !exc.concept?.length || exc.system === undefined) {
          out = { unknown: `ValueSet ${url} has an exclude that is not a concept list` };
          break;
        }
        for (const c of exc.concept) codes.delete(`${exc.system}|${c.code}`);
      }
      if (!('unknown' in out)) out = { codes: [...codes] };
    }
    cache.set(url, out);
    return out;
  };
  return (url) => expand(stripVersion(url), []);
}
