// Base-spec (R4 4.0.1) validation of one resource, nested resources included: what clients send and what the
// gateway emits. Three passes, each in its own file, all compiled ahead of time (r4-cache.ts):
// - structure and JSON types: the official R4 JSON schema compiled with ajv (r4-schema.ts);
// - cardinality, choice, ele-1, calendar dates, integers, required bindings: the model walk (r4-walk.ts);
// - every R4 invariant, on every element, datatype and resource (r4-invariants.ts).
// Never throws for bad input; every issue carries a FHIRPath-style path to the bad element.
import { issue, type Issue } from '../../base/outcome.js';
import { createBindingChecker } from './r4-bindings.js';
import { loadR4Artifacts, type R4Artifacts } from './r4-cache.js';
import { createInvariantEngine, type InvariantEngineOptions } from './r4-invariants.js';
import { schemaIssues } from './r4-schema.js';
import { createWalker } from './r4-walk.js';

export type ResourceValidator = (resource: unknown) => Issue[];

const NO_PATHS: ReadonlySet<string> = new Set();

/** A validator over loaded artifacts (tests pass options to watch the invariant engine). */
export function createR4Validator(artifacts: R4Artifacts, options: InvariantEngineOptions = {}): ResourceValidator {
  const { model, validateSchema } = artifacts;
  const walker = createWalker(model, createBindingChecker(model), createInvariantEngine(model, options));
  return (resource) => {
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
      return [issue('structure', 'A resource must be a JSON object')];
    }
    const r = resource as Record<string, unknown>;
    const rt = r.resourceType;
    if (typeof rt !== 'string' || rt === '') return [issue('required', 'Missing resourceType', 'resourceType')];
    if (model.types[rt]?.kind !== 'resource') {
      return [issue('not-supported', `Unknown resource type: ${rt}`, `${rt}.resourceType`)];
    }
    const out: Issue[] = [];
    let refused = NO_PATHS;
    if (!validateSchema(r)) {
      const found = schemaIssues(validateSchema.errors ?? [], rt, r);
      out.push(...found);
      refused = new Set(found.map((i) => i.expression ?? ''));
    }
    walker.resource(r, rt, refused, out);
    return out;
  };
}

let validator: ResourceValidator | undefined;
let artifacts: R4Artifacts | undefined;

/** Load (or build once, see r4-cache.ts) the compiled R4 validator. Called lazily; call it at startup to pay early. */
export function loadBaseDefinitions(): R4Artifacts {
  artifacts ??= loadR4Artifacts();
  validator ??= createR4Validator(artifacts);
  return artifacts;
}

/** Validate one resource (a Bundle with its entries, contained resources included) against R4 core. */
export function validateBase(resource: unknown): Issue[] {
  if (!validator) loadBaseDefinitions();
  return (validator as ResourceValidator)(resource);
}
