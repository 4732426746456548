// The mapping files' tiny template language for the resources around a QuestionnaireResponse
// (docs/MAPPING-FORMAT.md §2):
//   {"$path": "a.b"}                       a payload value (absolute path)
//   {"$item": "x"}                         a value of the current $each element (relative path)
//   {"$index": 1}                          the current $each position, counting from the given number
//   "$codeMap": "name", "$as": "isoDate"   beside $path/$item: through a code map / as an ISO date
//   {"$ref": "alias"}                      a Reference to another resource of the document
//   {"$each": "a.list", "$template": T}    T once per element of a payload array ("$eachItem" for a list
//                                          inside the current element); inside an array the results are spliced in
// Substitution is structural (never string replacement), and absent values drop their element: nothing empty
// is emitted.
import { issue, type Issue } from '../fhir/outcome.js';
import { parseDate } from './era-date.js';
import type { FormDefinition } from './form-definition.js';
import { getPath, isObject, type Json, type JsonObject } from './paths.js';

export interface TemplateContext {
  def: FormDefinition;
  payload: unknown;
  /** alias → reference string (urn:uuid:… inside a document, Type/id elsewhere) */
  refs: ReadonlyMap<string, string>;
  issues: Issue[];
}

interface Scope {
  /** the current $each element and its position, innermost first */
  item?: unknown;
  itemPath?: string;
  index?: number;
}

const isEach = (t: JsonObject): boolean => '$each' in t || '$eachItem' in t;

/** Expands a $each node into one resolved value per element. */
function expandEach(t: JsonObject, ctx: TemplateContext, scope: Scope, where: string): Json[] {
  const abs = typeof t.$each === 'string';
  const rel = String(abs ? t.$each : t.$eachItem);
  const list = abs ? getPath(ctx.payload, rel) : getPath(scope.item, rel);
  const listPath = abs ? rel : `${scope.itemPath ?? ''}.${rel}`;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    ctx.issues.push(issue('structure', `${listPath} must be a list`, listPath));
    return [];
  }
  const out: Json[] = [];
  list.forEach((item, i) => {
    const r = resolve(t.$template as Json, ctx, { item, itemPath: `${listPath}[${i}]`, index: i }, `${where}[${i}]`);
    if (r !== undefined) out.push(r);
  });
  return out;
}

function resolve(t: Json, ctx: TemplateContext, scope: Scope, where: string): Json | undefined {
  if (Array.isArray(t)) {
    const out: Json[] = [];
    t.forEach((x, i) => {
      if (isObject(x) && isEach(x)) out.push(...expandEach(x, ctx, scope, `${where}[${i}]`));
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
    if (ref === undefined) ctx.issues.push(issue('exception', `mapping ${ctx.def.name}: unknown $ref ${String(t.$ref)} at ${where}`));
    return ref === undefined ? undefined : { reference: ref };
  }
  if ('$index' in t) return scope.index === undefined ? undefined : scope.index + Number(t.$index ?? 0);
  if ('$path' in t) return convert(t, getPath(ctx.payload, String(t.$path)) as Json | undefined, String(t.$path), ctx);
  if ('$item' in t) {
    const rel = String(t.$item);
    return convert(t, getPath(scope.item, rel) as Json | undefined, `${scope.itemPath ?? ''}.${rel}`, ctx);
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(t)) {
    const r = resolve(v, ctx, scope, `${where}.${k}`);
    if (r !== undefined) out[k] = r;
  }
  const meaningful = Object.keys(out).filter((k) => k !== 'resourceType' && k !== 'system' && k !== 'use' && k !== 'url' && k !== 'extension');
  // An element whose only content is its fixed scaffolding (a system without a value, an extension wrapper
  // without its subject) carries nothing: drop it rather than emit an empty shell.
  return meaningful.length > 0 || 'resourceType' in out ? out : undefined;
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

export const isMultiResource = (t: JsonObject): boolean => isEach(t);

function convert(t: JsonObject, v: Json | undefined, path: string, ctx: TemplateContext): Json | undefined {
  if (v === undefined || v === null) return undefined;
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
  if (t.$as === 'string') return String(v);
  if (t.$as === 'number') return Number(v);
  return v;
}
