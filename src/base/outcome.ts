// One error type for everything a client can see: an OperationOutcome with an HTTP status.
// Validators collect issues and throw once (Medplum pattern); handlers never build ad-hoc error bodies.
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

/** One problem, with a FHIRPath-style path to the bad element (or a JSON path into a care-form payload). */
export interface Issue {
  severity: IssueSeverity;
  code: IssueCode;
  diagnostics: string;
  /** e.g. `QuestionnaireResponse.item[2].answer[0].valueCoding` or `header.insuredNumber` */
  expression?: string;
}

export function issue(
  code: IssueCode,
  diagnostics: string,
  expression?: string,
  severity: IssueSeverity = 'error',
): Issue {
  return expression === undefined ? { severity, code, diagnostics } : { severity, code, diagnostics, expression };
}

export function toOperationOutcome(issues: readonly Issue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.expression !== undefined ? { expression: [i.expression] } : {}),
    })),
  };
}

export class OperationOutcomeError extends Error {
  readonly status: number;
  readonly issues: readonly Issue[];
  constructor(status: number, issues: readonly Issue[]) {
    super(issues.map((i) => (i.expression ? `${i.expression}: ${i.diagnostics}` : i.diagnostics)).join('; '));
    this.name = 'OperationOutcomeError';
    this.status = status;
    this.issues = issues;
  }
  get outcome(): OperationOutcome {
    return toOperationOutcome(this.issues);
  }
}

export const hasErrors = (issues: readonly Issue[]): boolean =>
  issues.some((i) => i.severity === 'error' || i.severity === 'fatal');

/** Throw once with every collected issue, if any is an error. */
export function throwIfErrors(issues: readonly Issue[], status = 422): void {
  if (hasErrors(issues)) throw new OperationOutcomeError(status, issues);
}

export const badRequest = (msg: string, expression?: string): OperationOutcomeError =>
  new OperationOutcomeError(400, [issue('invalid', msg, expression)]);
export const unprocessable = (msg: string, expression?: string): OperationOutcomeError =>
  new OperationOutcomeError(422, [issue('processing', msg, expression)]);
export const notFound = (msg: string): OperationOutcomeError =>
  new OperationOutcomeError(404, [issue('not-found', msg)]);
export const forbidden = (msg: string): OperationOutcomeError =>
  new OperationOutcomeError(403, [issue('forbidden', msg)]);
export const unauthorized = (msg: string): OperationOutcomeError =>
  new OperationOutcomeError(401, [issue('login', msg)]);
export const conflict = (msg: string, expression?: string): OperationOutcomeError =>
  new OperationOutcomeError(409, [issue('conflict', msg, expression)]);
export const preconditionFailed = (msg: string): OperationOutcomeError =>
  new OperationOutcomeError(412, [issue('duplicate', msg)]);
export const notSupported = (msg: string, status = 405): OperationOutcomeError =>
  new OperationOutcomeError(status, [issue('not-supported', msg)]);

/** Anything unexpected becomes a 500 OperationOutcome without internals (they go to the log). */
export function normalizeError(err: unknown): OperationOutcomeError {
  if (err instanceof OperationOutcomeError) return err;
  return new OperationOutcomeError(500, [issue('exception', 'Internal error; see the gateway log for the request id')]);
}
