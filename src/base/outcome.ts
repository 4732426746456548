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

/**
 * How much of a list of issues a response shows. Without a bound, a body that is wrong everywhere (a megabyte of
 * CSV sent as a search form, one error per byte) answers with hundreds of megabytes; with it, no error response is
 * more than a small multiple of its request.
 */
export interface OutcomeLimits {
  /** issues shown; the rest are summed up in one more issue that says how many were left out */
  maxIssues: number;
  /** characters of each diagnostics text (a value echoed back is cut, with an ellipsis) */
  maxDiagnostics: number;
}

export const DEFAULT_OUTCOME_LIMITS: OutcomeLimits = { maxIssues: 100, maxDiagnostics: 500 };

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max)}…`);

export function toOperationOutcome(
  issues: readonly Issue[],
  limits: OutcomeLimits = DEFAULT_OUTCOME_LIMITS,
): OperationOutcome {
  const shown = issues.length > limits.maxIssues ? issues.slice(0, limits.maxIssues) : issues;
  const out: OperationOutcomeIssue[] = shown.map((i) => ({
    severity: i.severity,
    code: i.code,
    diagnostics: cut(i.diagnostics, limits.maxDiagnostics),
    ...(i.expression !== undefined ? { expression: [cut(i.expression, limits.maxDiagnostics)] } : {}),
  }));
  const left = issues.length - shown.length;
  if (left > 0) {
    const worst = issues.slice(shown.length).some((i) => i.severity === 'error' || i.severity === 'fatal');
    out.push({
      severity: worst ? 'error' : 'information',
      code: 'too-costly',
      diagnostics: `${left} more issue${left === 1 ? '' : 's'} not shown (at most ${limits.maxIssues} are listed)`,
    });
  }
  return { resourceType: 'OperationOutcome', issue: out };
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
  outcomeWithin(limits: OutcomeLimits): OperationOutcome {
    return toOperationOutcome(this.issues, limits);
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
export const notFound = (msg: string, expression?: string): OperationOutcomeError =>
  new OperationOutcomeError(404, [issue('not-found', msg, expression)]);
export const forbidden = (msg: string, expression?: string): OperationOutcomeError =>
  new OperationOutcomeError(403, [issue('forbidden', msg, expression)]);
/** A request over one of the gateway's limits (body size, JSON depth, Bundle entries): refused before any work. */
export const tooCostly = (status: 400 | 413 | 431, msg: string, expression?: string): OperationOutcomeError =>
  new OperationOutcomeError(status, [issue('too-costly', msg, expression)]);
export const unsupportedMediaType = (msg: string): OperationOutcomeError =>
  new OperationOutcomeError(415, [issue('not-supported', msg, 'Content-Type')]);
export const unauthorized = (msg: string): OperationOutcomeError =>
  new OperationOutcomeError(401, [issue('login', msg)]);
export const conflict = (msg: string, expression?: string): OperationOutcomeError =>
  new OperationOutcomeError(409, [issue('conflict', msg, expression)]);
export const preconditionFailed = (msg: string): OperationOutcomeError =>
  new OperationOutcomeError(412, [issue('duplicate', msg)]);
export const notSupported = (msg: string, status = 405, expression?: string): OperationOutcomeError =>
  new OperationOutcomeError(status, [issue('not-supported', msg, expression)]);

/** Anything unexpected becomes a 500 OperationOutcome without internals (they go to the log). */
export function normalizeError(err: unknown): OperationOutcomeError {
  if (err instanceof OperationOutcomeError) return err;
  return new OperationOutcomeError(500, [issue('exception', 'Internal error; see the gateway log for the request id')]);
}
