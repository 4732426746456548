// What one request may cost the gateway, per route: body bytes, JSON nesting, Bundle entries, and how many issues an
// OperationOutcome lists. Each limit is refused with its own 4xx OperationOutcome before the work it bounds starts.
// Defaults are documented in docs/OPERATIONS.md ("Limits and timeouts"); KAIGO_* variables override them.
import { DEFAULT_OUTCOME_LIMITS, type OutcomeLimits } from '../base/outcome.js';

/** The body size class of a route (router.ts names one per route that takes a body). */
export type BodyClass = 'bundle' | 'resource' | 'form' | 'search' | 'csv';

export interface RequestLimits {
  /** bytes of request body, per body class; more is 413 */
  bodyBytes: Record<BodyClass, number>;
  /** nesting of JSON arrays and objects; deeper is 400 */
  jsonDepth: number;
  /** entries of a transaction or batch Bundle; more is 413 */
  bundleEntries: number;
  /** members of a form-encoded search body; more is 400 */
  formParams: number;
  outcome: OutcomeLimits;
}

const MB = 1024 * 1024;

export const DEFAULT_LIMITS: RequestLimits = {
  bodyBytes: {
    bundle: 10 * MB, // POST /fhir: 1,000 Patients are ≈ 300 KB; a 主治医意見書 QuestionnaireResponse ≈ 19 KB
    resource: 2 * MB, // POST /fhir/{type}
    form: 1 * MB, // POST /forms/{form}: the largest sample payload is ≈ 25 KB
    search: 16 * 1024, // POST /fhir/{type}/_search: a form of search parameters
    // PUT /careplan-csv/{file}: ≈ 14,000 rows of 第6表. The file is parsed and planned in one piece before its
    // documents are stored (≈ 130 ms per 1,000 rows, measured, on the thread that serves every connection), so this
    // also bounds that pause.
    csv: 2 * MB,
  },
  jsonDepth: 64, // the deepest document the gateway builds (主治医意見書 Bundle) nests 17 levels
  bundleEntries: 1000,
  formParams: 100,
  outcome: DEFAULT_OUTCOME_LIMITS,
};
