// Care-form payloads are checked with ajv against the JSON Schemas in profiles/schemas, every problem reported
// with its path, before the mapping engine sees them.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { issue, type Issue } from '../../base/outcome.js';
import type { FormDefinition } from './form-definition.js';
import { patternMismatchReason } from './payload-schema.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new WeakMap<FormDefinition, ValidateFunction>();

const dotted = (instancePath: string): string =>
  instancePath
    .split('/')
    .filter(Boolean)
    .reduce((acc, seg) => (/^[0-9]+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');

/** The value a JSON pointer names (ajv reports where, not what, unless asked to copy every value). */
const valueAt = (root: unknown, pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>(
      (cur, seg) => (cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined),
      root,
    );

function toIssue(e: ErrorObject, payload: unknown): Issue {
  const at = dotted(e.instancePath);
  if (e.keyword === 'pattern') {
    // A date grammar explains itself in the words the engine and the QuestionnaireResponse validator use.
    const why = patternMismatchReason(String(e.params.pattern), valueAt(payload, e.instancePath));
    if (why !== undefined) return issue('value', why, at);
  }
  switch (e.keyword) {
    case 'required': {
      const p = at ? `${at}.${String(e.params.missingProperty)}` : String(e.params.missingProperty);
      return issue('required', `${p} is required`, p);
    }
    case 'additionalProperties': {
      const p = at ? `${at}.${String(e.params.additionalProperty)}` : String(e.params.additionalProperty);
      return issue('structure', `${p} is not a field of this form`, p);
    }
    case 'enum':
      return issue(
        'code-invalid',
        `${at} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}${e.parentSchema?.description ? ` (${String(e.parentSchema.description)})` : ''}`,
        at,
      );
    default:
      return issue(
        e.keyword === 'type' ? 'structure' : 'value',
        `${at || 'payload'} ${e.message ?? 'is invalid'}`,
        at || undefined,
      );
  }
}

export function validatePayload(def: FormDefinition, payload: unknown): Issue[] {
  let validate = compiled.get(def);
  if (!validate) {
    // Several registries may load the same form (tests, CLI); ajv keys schemas by $id, so reuse by id.
    const id = def.payloadSchema.$id;
    validate = (typeof id === 'string' ? ajv.getSchema(id) : undefined) ?? ajv.compile(def.payloadSchema);
    compiled.set(def, validate);
  }
  if (validate(payload)) return [];
  return (validate.errors ?? []).map((e) => toIssue(e, payload));
}
