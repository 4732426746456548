// One pass over a resource guided by the R4 model: what the JSON schema cannot say. Cardinality (min/max from
// the StructureDefinitions; a primitive given as `_x` only counts as present), one value per choice element,
// ele-1 (no empty elements, arrays or strings; a null in a primitive array only beside its `_x` entry),
// calendar dates and integer ranges, required bindings, and the invariants of every element, datatype and
// resource, including each nested resource (Bundle entries, contained) with its own %resource.
// Values the schema already refused (wrong JSON type, regex) are skipped here, so each problem is reported once.
// This runs on every request, so what can be is worked out once per type (TypeInfo) rather than per value.
import { issue, type Issue } from '../../base/outcome.js';
import type { BindingChecker } from './r4-bindings.js';
import type { InvariantEngine, InvariantScope } from './r4-invariants.js';
import { propertiesOf, typeSuffix, type R4Element, type R4Model } from './r4-model.js';
import { DATE_TYPES, INTEGER_TYPES, TEXT_TYPES, hasContent, integerProblem, isCalendarDate } from './r4-primitives.js';

type Json = Record<string, unknown>;

export interface Walker {
  /** Check one resource (its nested resources included) at `path`; `refused` are the paths the schema refused. */
  resource(r: Json, path: string, refused: ReadonlySet<string>, out: Issue[]): void;
}

const enum Check {
  None,
  Text,
  Date,
  Integer,
}

/** One JSON property of a type, with everything the walk needs about it. */
interface Prop {
  element: R4Element;
  /** the value's type code */
  type: string;
  underscore: boolean;
  /** `birthDate` for both `birthDate` and `_birthDate` */
  key: string;
  /** `_birthDate` */
  ext: string;
  kind: 'primitive' | 'complex' | 'resource';
  check: Check;
  /** every invariant on a value of this property: the type's own, the element's, a type profile's */
  invariants: number[];
  /** resolved on first use */
  info?: TypeInfo | undefined;
}

interface TypeInfo {
  props: Map<string, Prop>;
  required: Array<{ element: R4Element; keys: string[] }>;
  bounded: R4Element[];
  constraints: number[];
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const ELE_1 = 'ele-1: All FHIR elements must have a @value or children';
const INDEX = Array.from({ length: 64 }, (_, i) => `[${i}]`);
const index = (i: number): string => INDEX[i] ?? `[${i}]`;
const extPath = (path: string): string => path.replace(/\.([^.[]+)((?:\[\d+\])?)$/, '._$1$2');

export function createWalker(model: R4Model, bindings: BindingChecker, invariants: InvariantEngine): Walker {
  const infos = new Map<string, TypeInfo | undefined>();
  const info = (name: string): TypeInfo | undefined => {
    if (infos.has(name)) return infos.get(name);
    const type = model.types[name];
    let i: TypeInfo | undefined;
    if (type && type.kind !== 'primitive') {
      const props = new Map<string, Prop>();
      for (const [json, p] of propertiesOf(type)) {
        const key = p.underscore ? json.slice(1) : json;
        const t = model.types[p.type];
        props.set(json, {
          element: p.element,
          type: p.type,
          underscore: p.underscore,
          key,
          ext: `_${key}`,
          kind: p.type === 'Resource' ? 'resource' : t && t.kind !== 'primitive' ? 'complex' : 'primitive',
          check: TEXT_TYPES.has(p.type)
            ? Check.Text
            : DATE_TYPES.has(p.type)
              ? Check.Date
              : INTEGER_TYPES.has(p.type)
                ? Check.Integer
                : Check.None,
          invariants: [
            ...(t && t.kind !== 'primitive' ? t.constraints : []),
            ...(p.element.constraints ?? []),
            ...(p.element.typeConstraints?.[p.type] ?? []),
          ],
        });
      }
      const keysOf = (e: R4Element): string[] =>
        e.types.flatMap((c) => {
          const k = e.choice ? e.name + typeSuffix(c) : e.name;
          return [k, `_${k}`];
        });
      i = {
        props,
        required: type.elements.filter((e) => e.min > 0).map((e) => ({ element: e, keys: keysOf(e) })),
        bounded: type.elements.filter((e) => e.max > 1),
        constraints: type.constraints,
      };
    }
    infos.set(name, i);
    return i;
  };
  const elementInfo = (): TypeInfo => info('Element') as TypeInfo;

  return {
    resource(root, rootPath, refused, out) {
      const checkRefused = refused.size > 0;
      const report = (code: Parameters<typeof issue>[0], msg: string, path: string): void => {
        out.push(issue(code, msg, path));
      };

      const resource = (r: Json, path: string, container: Json | undefined): void => {
        const rt = r.resourceType;
        const t = typeof rt === 'string' && model.types[rt]?.kind === 'resource' ? info(rt) : undefined;
        if (!t) return; // unknown or missing resourceType: reported by the schema
        const scope: InvariantScope = { resource: r, rootResource: container ?? r };
        object(r, t, path, scope);
        if (t.constraints.length) invariants.check(t.constraints, r, rt as string, path, scope, out);
      };

      const object = (o: Json, t: TypeInfo, path: string, scope: InvariantScope): void => {
        let choice: Prop | undefined; // the first choice property seen (objects rarely hold two choice elements)
        let more: Prop[] | undefined;
        for (const json in o) {
          const p = t.props.get(json);
          if (p === undefined) continue; // resourceType, or an unknown property: reported by the schema
          if (p.element.choice) {
            if (choice === undefined) choice = p;
            else (more ??= []).push(p);
          }
          if (p.kind === 'primitive') {
            if (!p.underscore) primitives(o[json], o[p.ext], p, path + '.' + json, scope);
            else if (o[p.key] === undefined) primitives(undefined, o[json], p, path + '.' + p.key, scope);
          } else complexes(o[json], p, path + '.' + json, scope);
        }
        for (const r of t.required) {
          if (!r.keys.some((k) => o[k] !== undefined)) {
            const e = r.element;
            report('required', `Missing required element ${e.name}`, `${path}.${e.name}${e.choice ? '[x]' : ''}`);
          }
        }
        if (more && choice) choiceConflicts([choice, ...more], path);
        for (const e of t.bounded) {
          const v = o[e.name];
          if (Array.isArray(v) && v.length > e.max)
            report('structure', `At most ${e.max} values allowed for ${e.name}`, `${path}.${e.name}`);
        }
      };

      const choiceConflicts = (props: Prop[], path: string): void => {
        const byElement = new Map<R4Element, string[]>();
        for (const p of props) {
          const keys = byElement.get(p.element) ?? [];
          if (!keys.includes(p.key)) keys.push(p.key);
          byElement.set(p.element, keys);
        }
        for (const keys of byElement.values()) {
          if (keys.length > 1)
            report(
              'structure',
              `Only one choice-of-type value is allowed, found ${keys.join(' and ')}`,
              `${path}.${keys[1]}`,
            );
        }
      };

      const complexes = (v: unknown, p: Prop, path: string, scope: InvariantScope): void => {
        if (checkRefused && refused.has(path)) return;
        if (p.element.max === 1) {
          complex(v, p, path, scope);
          return;
        }
        if (!Array.isArray(v)) return; // the schema reports a single value for a list
        if (v.length === 0) report('value', 'Invalid empty value', path);
        for (let i = 0; i < v.length; i++) complex(v[i], p, path + index(i), scope);
      };

      const complex = (v: unknown, p: Prop, path: string, scope: InvariantScope): void => {
        if (checkRefused && refused.has(path)) return;
        if (!isObject(v)) {
          if (v === null) report('structure', 'A null value is not allowed here', path);
          return; // anything else: the schema reports it
        }
        if (p.kind === 'resource') {
          resource(v, path, p.element.name === 'contained' ? (scope.rootResource as Json) : undefined);
          return;
        }
        const t = (p.info ??= info(p.type));
        if (!t) return;
        let children = false;
        let any = false;
        for (const k in v) {
          any = true;
          if (k !== 'id') {
            children = true;
            break;
          }
        }
        if (!any) {
          report('value', 'Invalid empty value', path);
          return;
        }
        if (!children) report('invariant', ELE_1, path);
        object(v, t, path, scope);
        if (p.element.valueSet) {
          const bad = bindings.check(p.element.valueSet, p.type, v, path);
          if (bad) out.push(bad);
        }
        if (p.invariants.length) invariants.check(p.invariants, v, p.type, path, scope, out);
      };

      /** A primitive property: `v` the value(s), `x` the `_` companion(s) with ids/extensions. */
      const primitives = (v: unknown, x: unknown, p: Prop, path: string, scope: InvariantScope): void => {
        if (checkRefused && refused.has(path)) return;
        if (p.element.max === 1) {
          if (!Array.isArray(v) && !Array.isArray(x)) primitive(v, x, p, path, scope);
          return; // an array: the schema reports it
        }
        const vs = v === undefined ? [] : v;
        const xs = x === undefined ? [] : x;
        if (!Array.isArray(vs) || !Array.isArray(xs)) return; // the schema reports it
        if (v !== undefined && vs.length === 0) return report('value', 'Invalid empty value', path);
        if (x !== undefined && xs.length === 0) return report('value', 'Invalid empty value', extPath(path));
        const n = vs.length > xs.length ? vs.length : xs.length;
        for (let i = 0; i < n; i++)
          primitive(i < vs.length ? vs[i] : undefined, i < xs.length ? xs[i] : undefined, p, path + index(i), scope);
      };

      const primitive = (v: unknown, x: unknown, p: Prop, path: string, scope: InvariantScope): void => {
        if (checkRefused && refused.has(path)) return;
        const absent = v === undefined || v === null;
        if (x !== undefined && x !== null) {
          const at = extPath(path);
          if (isObject(x) && !(checkRefused && refused.has(at))) {
            const keys = Object.keys(x);
            if (keys.length === 0) report('value', 'Invalid empty value', at);
            else {
              if (absent && !keys.some((k) => k !== 'id')) report('invariant', ELE_1, path);
              object(x, elementInfo(), at, scope);
            }
          }
        } else if (absent) {
          report('structure', 'A null value needs its extension in the _ property', path);
          return;
        }
        if (absent) return;
        if (v === '') {
          report('value', 'Invalid empty value', path);
          return;
        }
        switch (p.check) {
          case Check.Text:
            if (typeof v === 'string' && !hasContent(v))
              report('value', 'String must contain non-whitespace content', path);
            break;
          case Check.Date:
            if (typeof v === 'string' && !isCalendarDate(v)) report('value', `Invalid date ${v}`, path);
            break;
          case Check.Integer: {
            const problem = typeof v === 'number' ? integerProblem(p.type, v) : undefined;
            if (problem) report('value', problem, path);
            break;
          }
          case Check.None:
            break;
        }
        if (p.element.valueSet) {
          const bad = bindings.check(p.element.valueSet, p.type, v, path);
          if (bad) out.push(bad);
        }
        if (p.invariants.length) invariants.check(p.invariants, v, p.type, path, scope, out);
      };

      resource(root, rootPath, undefined);
    },
  };
}
