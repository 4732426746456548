// Required bindings of R4 core elements (Patient.gender, Bundle.type, Condition.clinicalStatus …) against the
// locally expanded ValueSets. In R4 core a required binding sits on a `code` or a CodeableConcept.
// - code: the value must be one of the ValueSet's codes (its system is implied by the element).
// - CodeableConcept: one of its codings must be in the ValueSet. A concept we cannot judge passes: text only,
//   or a coding without system or code next to the non-matching ones (never refuse what might be valid).
import { issue, type Issue } from '../../base/outcome.js';
import type { R4Model } from './r4-model.js';

export interface BindingChecker {
  check(valueSet: string, type: string, value: unknown, path: string): Issue | undefined;
}

export function createBindingChecker(model: R4Model): BindingChecker {
  const codes = new Map<string, Set<string>>(); // url → codes without system (for `code` elements)
  const codings = new Map<string, Set<string>>(); // url → `system|code`
  const codesOf = (url: string): Set<string> => {
    let s = codes.get(url);
    if (!s) {
      s = new Set((model.valueSets[url] ?? []).map((c) => c.slice(c.indexOf('|') + 1)));
      codes.set(url, s);
    }
    return s;
  };
  const codingsOf = (url: string): Set<string> => {
    let s = codings.get(url);
    if (!s) {
      s = new Set(model.valueSets[url] ?? []);
      codings.set(url, s);
    }
    return s;
  };
  return {
    check(valueSet, type, value, path) {
      if (type === 'code') {
        if (typeof value !== 'string' || codesOf(valueSet).has(value)) return undefined;
        return issue('code-invalid', `Value "${value}" is not in the required ValueSet ${valueSet}`, path);
      }
      if (type !== 'CodeableConcept' || typeof value !== 'object' || value === null) return undefined;
      const list = (value as { coding?: unknown }).coding;
      if (!Array.isArray(list) || list.length === 0) return undefined;
      const set = codingsOf(valueSet);
      let judged = true;
      for (const c of list as Array<{ system?: unknown; code?: unknown } | null>) {
        if (typeof c?.system !== 'string' || typeof c.code !== 'string') judged = false;
        else if (set.has(`${c.system}|${c.code}`)) return undefined;
      }
      if (!judged) return undefined;
      return issue('code-invalid', `None of the codings is in the required ValueSet ${valueSet}`, `${path}.coding`);
    },
  };
}
