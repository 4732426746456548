// Every error-severity invariant of R4 core (constraint.expression in the StructureDefinitions), evaluated with
// fhirpath.js and its R4 model. Each expression is parsed and compiled once, on first use; the prover
// (r4-invariant-prover.ts) answers first and fhirpath.js only runs when the prover cannot show the invariant holds.
// Policy: a violation is a result of exactly `false`. An empty result (e.g. per-1 comparing a date with a
// dateTime of different precision) is undecided and passes; an evaluation error is reported as information.
// Warning-severity invariants (dom-6 "should have narrative", best-practice rules) are not evaluated: they never
// make a resource invalid. ele-1 is checked structurally by the walker (r4-walk.ts).
import fhirpath, { type Model } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { issue, type Issue } from '../../base/outcome.js';
import { createProverFactory, type Prover } from './r4-invariant-prover.js';
import type { R4Model } from './r4-model.js';

/**
 * R4 invariants fhirpath.js cannot evaluate as written; they are not evaluated (listed so that what is not
 * checked is visible; test/r4-validator.test.ts asserts this is exactly the set that fails to compile/run).
 */
export const SKIPPED_INVARIANTS: Record<string, string> = {
  'que-7':
    '`answer is Boolean` names System.Boolean; fhirpath.js types answerBoolean as FHIR.boolean, so it is false for every valid enableWhen (R5 corrected it to `boolean`)',
  'txt-1':
    'htmlChecks(): fhirpath.js refuses namespace-prefixed attributes such as xml:lang, which the R4 narrative rules allow (JP-CLINS narratives carry lang + xml:lang)',
  'txt-2': 'htmlChecks(), as txt-1 (R4 writes both rules as the one function)',
  'eld-16':
    'the regex in `sliceName.matches(…)` escapes `@`, which a JavaScript unicode regex refuses: the evaluation throws for every sliced element',
  'eld-19':
    "the regex in `path.matches(…)` escapes `'` and `:`, which a JavaScript unicode regex refuses: the evaluation throws for every ElementDefinition",
};

/**
 * R4 invariants evaluated with a corrected expression: same meaning, expressible in FHIRPath as fhirpath.js
 * implements it. dom-3 applies `as(canonical)` to a collection, an error in FHIRPath (as() takes one item);
 * R5 rewrote it with ofType(), which we use (the 4.0.1 technical correction's `id.exists()` guard included).
 */
export const REWRITTEN_INVARIANTS: Record<string, string> = {
  'dom-3':
    "contained.where(((id.exists() and ('#'+id in (%resource.descendants().reference | %resource.descendants().ofType(canonical) | %resource.descendants().ofType(uri) | %resource.descendants().ofType(url)))) or descendants().where(reference = '#').exists() or descendants().where(ofType(canonical) = '#').exists() or descendants().where(ofType(uri) = '#').exists()).not()).trace('unmatched', id).empty()",
};

const quiet = { traceFn: (): void => undefined };

interface Compiled {
  key: string;
  human: string;
  prove: Prover | undefined;
  run: ((node: unknown, env: Record<string, unknown>) => unknown[]) | undefined;
  /** why it is not evaluated */
  skipped?: string;
}

export interface InvariantScope {
  resource: unknown;
  rootResource: unknown;
}

export interface InvariantEngine {
  /** Evaluate the invariants `ids` on `node` (of model type `type`, at `path`); push violations onto `out`. */
  check(ids: readonly number[], node: unknown, type: string, path: string, scope: InvariantScope, out: Issue[]): void;
  /** Compile every invariant now (tests; a gateway compiles on first use). Returns key → why for skipped ones. */
  compileAll(): Record<string, string>;
}

export interface InvariantEngineOptions {
  /**
   * Tests: also run fhirpath.js where the prover showed the invariant holds, and report where fhirpath.js
   * disagrees (its result is `false`). Production never sets it.
   */
  crossCheck?: (key: string, path: string, result: unknown[]) => void;
  /** Tests: called for every fhirpath.js evaluation (the prover could not decide). */
  onEvaluate?: (key: string) => void;
}

export function createInvariantEngine(model: R4Model, options: InvariantEngineOptions = {}): InvariantEngine {
  const { crossCheck, onEvaluate } = options;
  const prover = createProverFactory(model);
  const compiled: (Compiled | undefined)[] = [];
  const get = (id: number): Compiled => {
    const hit = compiled[id];
    if (hit) return hit;
    const c = model.constraints[id];
    if (!c) throw new Error(`no invariant ${id}`);
    const entry: Compiled = { key: c.key, human: c.human, prove: undefined, run: undefined };
    const skip = SKIPPED_INVARIANTS[c.key];
    if (skip) entry.skipped = skip;
    else {
      const expression = REWRITTEN_INVARIANTS[c.key] ?? c.expression;
      try {
        entry.run = fhirpath.compile({ base: c.base, expression }, r4 as Model, quiet) as Compiled['run'];
        entry.prove = prover(fhirpath.parse(expression));
      } catch (err) {
        entry.skipped = `does not compile: ${(err as Error).message}`;
      }
    }
    compiled[id] = entry;
    return entry;
  };

  return {
    check(ids, node, type, path, scope, out) {
      for (const id of ids) {
        const c = get(id);
        if (!c.run) continue;
        if (c.prove?.(node, type, scope.resource, scope.rootResource)) {
          if (crossCheck) {
            const result = c.run(node, { resource: scope.resource, rootResource: scope.rootResource });
            if (result.length === 1 && result[0] === false) crossCheck(c.key, path, result);
          }
          continue;
        }
        onEvaluate?.(c.key);
        let result: unknown[];
        try {
          result = c.run(node, { resource: scope.resource, rootResource: scope.rootResource });
        } catch (err) {
          out.push(
            issue('informational', `${c.key} could not be evaluated: ${(err as Error).message}`, path, 'information'),
          );
          continue;
        }
        if (result.length === 1 && result[0] === false) out.push(issue('invariant', `${c.key}: ${c.human}`, path));
      }
    },
    compileAll() {
      const skipped: Record<string, string> = {};
      model.constraints.forEach((_c, id) => {
        const c = get(id);
        if (c.skipped) skipped[c.key] = c.skipped;
      });
      return skipped;
    },
  };
}
