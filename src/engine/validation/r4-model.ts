// The compiled R4 (4.0.1) type model the base validator walks: every resource, datatype and backbone element with
// its elements (cardinality, types, required binding, invariants). Built once from the StructureDefinitions
// (r4-model-build.ts) and cached as JSON, so it is plain data: no functions, no Maps.

/** One element of a type, e.g. `Patient.gender` or `Observation.value[x]` (name `value`, several types). */
export interface R4Element {
  /** The element name; `value` for `value[x]`. */
  name: string;
  min: number;
  /** -1 = unbounded (`*`). */
  max: number;
  /**
   * Type codes (several for a choice). Primitive and complex types by name (`string`, `Period`), a backbone
   * element by its own path (`Patient.contact`, also for a contentReference such as `Questionnaire.item.item`),
   * a nested resource as `Resource`, and an element's id / Extension.url as `System.String`.
   */
  types: string[];
  choice: boolean;
  /** A required binding whose ValueSet expanded locally: its url (no version). */
  valueSet?: string;
  /** A required binding whose ValueSet could not be expanded locally: its url (the binding is not checked). */
  unexpandedValueSet?: string;
  /** Invariants of this element (ids into R4Model.constraints), besides those of the value's own type. */
  constraints?: number[];
  /** Extra invariants by value type: a type profile such as SimpleQuantity (`Range.low`). */
  typeConstraints?: Record<string, number[]>;
}

export type R4TypeKind = 'resource' | 'complex' | 'primitive' | 'backbone';

export interface R4Type {
  /** `Patient`, `Period`, `string`, or a backbone path `Bundle.entry`. */
  name: string;
  kind: R4TypeKind;
  elements: R4Element[];
  /** Invariants on every value of this type (a resource's root invariants, a datatype's own). */
  constraints: number[];
}

/** One invariant, compiled against `base` (the FHIRPath type or element path of the node it is evaluated on). */
export interface R4Constraint {
  key: string;
  human: string;
  expression: string;
  base: string;
}

export interface R4Model {
  types: Record<string, R4Type>;
  constraints: R4Constraint[];
  /** Expanded required ValueSets: url → `system|code` entries. */
  valueSets: Record<string, string[]>;
  /** Required ValueSets that cannot be expanded here: url → why. Their bindings are noted, not enforced. */
  unexpandable: Record<string, string>;
  /** What was changed in the source definitions to make them R4 4.0.1 (see r4-corrections.ts), one line each. */
  corrections: string[];
}

export const isPrimitiveCode = (code: string): boolean => /^[a-z]/.test(code) || code === 'System.String';

/** R4 JSON: every primitive may carry id/extensions in `_name`, except an id, Extension.url and xhtml. */
export const hasUnderscoreForm = (code: string): boolean =>
  isPrimitiveCode(code) && code !== 'System.String' && code !== 'xhtml';

/** `dateTime` → `DateTime`: the suffix of a choice property (`valueDateTime`). */
export const typeSuffix = (code: string): string => code.charAt(0).toUpperCase() + code.slice(1);

/** Where one JSON property of an object of some type points: the element, the value's type, `_x` or not. */
export interface R4Property {
  element: R4Element;
  type: string;
  /** `_birthDate`: the id/extensions of a primitive value. */
  underscore: boolean;
}

/** JSON property name → element, for each type (computed at load time from the model). */
export function propertiesOf(type: R4Type): Map<string, R4Property> {
  const out = new Map<string, R4Property>();
  for (const element of type.elements) {
    for (const t of element.types) {
      const key = element.choice ? element.name + typeSuffix(t) : element.name;
      out.set(key, { element, type: t, underscore: false });
      if (hasUnderscoreForm(t)) out.set(`_${key}`, { element, type: t, underscore: true });
    }
  }
  return out;
}
