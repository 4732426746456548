// The mapping files' tiny template language for the resources around a QuestionnaireResponse:
// {"$path": "a.b"} a payload value, "$codeMap" through a code map, "$as": "isoDate", {"$ref": "alias"} a reference.
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

export function resolveTemplate(t: Json, ctx: TemplateContext, where: string): Json | undefined {
  if (Array.isArray(t)) {
    const out = t.map((x, i) => resolveTemplate(x, ctx, `${where}[${i}]`)).filter((x): x is Json => x !== undefined);
    return out.length > 0 ? out : undefined;
  }
  if (!isObject(t)) return t;
  if ('$ref' in t) {
    const ref = ctx.refs.get(String(t.$ref));
    if (ref === undefined) ctx.issues.push(issue('exception', `mapping ${ctx.def.name}: unknown $ref ${String(t.$ref)} at ${where}`));
    return ref === undefined ? undefined : { reference: ref };
  }
  if ('$path' in t) return resolveValue(t, ctx);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(t)) {
    const r = resolveTemplate(v, ctx, `${where}.${k}`);
    if (r !== undefined) out[k] = r;
  }
  const meaningful = Object.keys(out).filter((k) => k !== 'resourceType' && k !== 'system' && k !== 'use' && k !== 'url' && k !== 'extension');
  // An element whose only content is its fixed scaffolding (a system without a value, an extension wrapper
  // without its subject) carries nothing: drop it rather than emit an empty shell.
  return meaningful.length > 0 || 'resourceType' in out ? out : undefined;
}

function resolveValue(t: JsonObject, ctx: TemplateContext): Json | undefined {
  const path = String(t.$path);
  const v = getPath(ctx.payload, path) as Json | undefined;
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
  return v;
}
