// The mapping files' tiny template language for the resources around a QuestionnaireResponse
// (docs/MAPPING-FORMAT.md §2):
//   {"$path": "a.b"}                       a payload value (absolute path)
//   {"$item": "x"}                         a value of the current $each element (relative path)
//   {"$index": 1}                          the current $each position, counting from the given number
//   "$codeMap": "name", "$as": "isoDate"   beside $path/$item: through a code map / as an ISO date
//   {"$ref": "alias"}                      a Reference to another resource of the document
//   {"$each": "a.list", "$template": T}    T once per element of a payload array ("$eachItem" for a list
//                                          inside the current element); inside an array the results are spliced in.
//                                          "needs[].goals[]" flattens nested lists; {"$item": "x", "$up": 1}
//                                          reads the enclosing element
//   {"$refEach": "alias"}                  (in an array) one Reference per resource of a multi-resource alias
//   "$none": ["9999"]                      beside $path/$item: values that mean "none" and drop the element
//   {"$if": "a.b", …}                      the object only when that payload value is present ("$ifItem": a value
//                                          of the current $each element); lets fixed content (a class type, a unit)
//                                          go with an optional value instead of standing alone
// Substitution is structural (never string replacement), and absent values drop their element: nothing empty
// is emitted. Shared snippets ($snippet/$param) never get here: the registry expands them at load time (snippets.ts).
import { issue, type Issue } from '../../base/outcome.js';
import { parseDate } from './era-date.js';
import type { FormDefinition } from './form-definition.js';
import { getPath, isObject, type Json, type JsonObject } from '../../base/json-paths.js';

export interface TemplateContext {
  def: FormDefinition;
  payload: unknown;
  /** alias → reference string (urn:uuid:… inside a document, Type/id elsewhere) */
  refs: ReadonlyMap<string, string>;
  /** multi-resource alias → the references of the resources it produced */
  multiRefs?: ReadonlyMap<string, readonly string[]>;
  issues: Issue[];
}

interface Scope {
  /** the current $each element and its position */
  item?: unknown;
  itemPath?: string;
  index?: number;
  /** enclosing elements of a flattened path ("needs[].goals[]"), outermost first */
  ancestors?: unknown[];
}

/** The elements a $each path names; "a[].b[]" flattens nested lists, keeping each element's ancestors. */
function listElements(
  root: unknown,
  rootPath: string,
  path: string,
  ctx: TemplateContext,
  baseAncestors: unknown[],
): Array<{ item: unknown; path: string; ancestors: unknown[] }> {
  const segments = path.replace(/\[\]$/, '').split('[].');
  let current: Array<{ item: unknown; path: string; ancestors: unknown[] }> = [
    { item: root, path: rootPath, ancestors: baseAncestors },
  ];
  segments.forEach((seg, depth) => {
    const next: typeof current = [];
    for (const c of current) {
      const list = getPath(c.item, seg);
      const at = c.path ? `${c.path}.${seg}` : seg;
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) {
        ctx.issues.push(issue('structure', `${at} must be a list`, at));
        continue;
      }
      list.forEach((el, i) =>
        next.push({ item: el, path: `${at}[${i}]`, ancestors: depth === 0 ? c.ancestors : [...c.ancestors, c.item] }),
      );
    }
    current = next;
  });
  return current;
}

const isEach = (t: JsonObject): boolean => '$each' in t || '$eachItem' in t;

/** Expands a $each node into one resolved value per element. */
function expandEach(t: JsonObject, ctx: TemplateContext, scope: Scope, where: string): Json[] {
  const abs = typeof t.$each === 'string';
  const elements = abs
    ? listElements(ctx.payload, '', String(t.$each), ctx, [])
    : listElements(scope.item, scope.itemPath ?? '', String(t.$eachItem), ctx, [
        ...(scope.ancestors ?? []),
        scope.item,
      ]);
  const out: Json[] = [];
  elements.forEach((e, i) => {
    const r = resolve(
      t.$template as Json,
      ctx,
      { item: e.item, itemPath: e.path, index: i, ancestors: e.ancestors },
      `${where}[${i}]`,
    );
    if (r !== undefined) out.push(r);
  });
  return out;
}

function refEach(t: JsonObject, ctx: TemplateContext, where: string): Json[] {
  const refs = ctx.multiRefs?.get(String(t.$refEach));
  if (refs === undefined) {
    ctx.issues.push(
      issue(
        'exception',
        `mapping ${ctx.def.name}: $refEach names no multi-resource alias ${String(t.$refEach)} at ${where}`,
      ),
    );
    return [];
  }
  return refs.map((reference) => ({ reference }));
}

function resolve(t: Json, ctx: TemplateContext, scope: Scope, where: string): Json | undefined {
  if (isObject(t) && ('$if' in t || '$ifItem' in t)) {
    const { $if: cond, $ifItem: condItem, ...rest } = t;
    const v = cond !== undefined ? getPath(ctx.payload, String(cond)) : getPath(scope.item, String(condItem));
    return v === undefined || v === null ? undefined : resolve(rest, ctx, scope, where);
  }
  if (Array.isArray(t)) {
    const out: Json[] = [];
    t.forEach((x, i) => {
      if (isObject(x) && isEach(x)) out.push(...expandEach(x, ctx, scope, `${where}[${i}]`));
      else if (isObject(x) && '$refEach' in x) out.push(...refEach(x, ctx, `${where}[${i}]`));
      else {
        const r = resolve(x, ctx, scope, `${where}[${i}]`);
        if (r !== undefined) out.push(r);
      }
    });
    return out.length > 0 ? out : undefined;
  }
  if (!isObject(t)) return t;
  if (isEach(t)) {
    const out = expandEach(t, ctx, scope, where);
    return out.length > 0 ? out : undefined;
  }
  if ('$ref' in t) {
    const ref = ctx.refs.get(String(t.$ref));
    if (ref === undefined)
      ctx.issues.push(issue('exception', `mapping ${ctx.def.name}: unknown $ref ${String(t.$ref)} at ${where}`));
    return ref === undefined ? undefined : { reference: ref };
  }
  if ('$index' in t) return scope.index === undefined ? undefined : scope.index + Number(t.$index ?? 0);
  if ('$path' in t) return convert(t, getPath(ctx.payload, String(t.$path)) as Json | undefined, String(t.$path), ctx);
  if ('$item' in t) {
    const rel = String(t.$item);
    const up = Number(t.$up ?? 0);
    const ancestors = scope.ancestors ?? [];
    const from = up === 0 ? scope.item : ancestors[ancestors.length - up];
    return convert(
      t,
      getPath(from, rel) as Json | undefined,
      `${scope.itemPath ?? ''}${up ? ` (up ${up})` : ''}.${rel}`,
      ctx,
    );
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(t)) {
    const r = resolve(v, ctx, scope, `${where}.${k}`);
    if (r !== undefined) out[k] = r;
  }
  const meaningful = Object.keys(out).filter(
    (k) => k !== 'resourceType' && k !== 'system' && k !== 'use' && k !== 'url' && k !== 'extension',
  );
  // A complex extension (url + sub-extensions, no value[x]) carries its sub-extensions: keep it when any survived.
  const complexExtension =
    typeof out.url === 'string' && Array.isArray(out.extension) && !Object.keys(out).some((k) => k.startsWith('value'));
  // An element whose only content is its fixed scaffolding (a system without a value, an extension wrapper
  // without its subject) carries nothing: drop it rather than emit an empty shell.
  return meaningful.length > 0 || complexExtension || 'resourceType' in out ? out : undefined;
}

export function resolveTemplate(t: Json, ctx: TemplateContext, where: string): Json | undefined {
  return resolve(t, ctx, {}, where);
}

/** A resource alias whose template is a $each yields several resources; otherwise one. */
export function resolveResources(t: JsonObject, ctx: TemplateContext, where: string): JsonObject[] {
  if (isEach(t)) return expandEach(t, ctx, {}, where).filter(isObject);
  const r = resolve(t, ctx, {}, where);
  return isObject(r) ? [r] : [];
}

// Constant templates never reach the context (only directives read it), so an empty one will do.
const NO_CONTEXT: TemplateContext = {
  def: { name: '(constant)' } as FormDefinition,
  payload: {},
  refs: new Map(),
  issues: [],
};

/**
 * A template without directives, resolved as a request would resolve it: what it emits whatever the payload, or
 * undefined when it is only scaffolding (a `system` without its value). Snippet expansion asks this about what an
 * omitted parameter left behind, so load time drops exactly what every request would have dropped.
 */
export const resolveConstant = (t: Json): Json | undefined => resolve(t, NO_CONTEXT, {}, '');

export const isMultiResource = (t: JsonObject): boolean => isEach(t);

function convert(t: JsonObject, v: Json | undefined, path: string, ctx: TemplateContext): Json | undefined {
  if (v === undefined || v === null) return undefined;
  // Values the form uses to mean "none" (e.g. 9999 = no time in the care-plan CSV) drop their element.
  if (Array.isArray(t.$none) && t.$none.map(String).includes(String(v))) return undefined;
  if (typeof t.$codeMap === 'string') {
    const map = ctx.def.codeMaps.get(t.$codeMap);
    const mapped = map?.[String(v)];
    if (mapped === undefined) {
      ctx.issues.push(issue('code-invalid', `'${String(v)}' has no mapping in code map ${t.$codeMap}`, path));
      return undefined;
    }
    return mapped;
  }
  if (t.$as === 'isoDate') {
    const parsed = parseDate(String(v));
    if (typeof parsed === 'string') {
      ctx.issues.push(issue('value', `'${String(v)}': ${parsed}`, path));
      return undefined;
    }
    return parsed.iso;
  }
  if (t.$as === 'time') {
    // HH:MM or HHMM (care-plan tables) → FHIR time HH:MM:SS; 24:00 (end of day) has no FHIR time.
    const m = /^([01][0-9]|2[0-3]):?([0-5][0-9])$/.exec(String(v));
    if (!m) {
      ctx.issues.push(issue('value', `'${String(v)}' is not a time of day (HH:MM, 00:00–23:59)`, path));
      return undefined;
    }
    return `${m[1]}:${m[2]}:00`;
  }
  if (t.$as === 'string') return String(v);
  if (t.$as === 'number') return Number(v);
  return v;
}
