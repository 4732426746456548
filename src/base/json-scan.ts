// A look at JSON text before JSON.parse builds anything from it: how deep it nests, and whether any member is named
// __proto__, constructor or prototype. JSON.parse itself copes with both (it is iterative, and it makes "__proto__"
// an own property), but the code after it does not: recursive walks overflow the stack on a deep enough value, and
// one `out[key] = value` or object spread turns a "__proto__" member into a prototype. So such input is refused,
// with the path of the first place it goes wrong, before it is parsed.
//
// One pass over the characters; strings are skipped with indexOf, so long text values cost almost nothing. Not a
// JSON validator: malformed input just ends the scan, and JSON.parse reports it afterwards.

export type JsonPathStep = string | number;

export interface JsonScanProblem {
  kind: 'depth' | 'member';
  /** where: the container that opens one level too deep, or the forbidden member itself */
  path: JsonPathStep[];
  /** the top-level "resourceType", when it came before the problem (to name the root of the path) */
  resourceType?: string;
}

/** Member names that some JavaScript object operation treats as something other than data. */
export const FORBIDDEN_MEMBER_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** Index of the quote closing the string that opens at `start` (or text.length when it never closes). */
function stringEnd(text: string, start: number): number {
  let at = start;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return text.length;
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
}

function stringValue(text: string, start: number, end: number): string | undefined {
  const raw = text.slice(start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return undefined;
  }
}

export function scanJson(text: string, maxDepth: number): JsonScanProblem | undefined {
  // One frame per open container: whether it is an array, the member or index being read, and for objects whether
  // the next string is a member name.
  const isArray: boolean[] = [];
  const step: JsonPathStep[] = [];
  let expectName = false;
  let resourceType: string | undefined;
  let readingResourceType = false;
  const problem = (kind: JsonScanProblem['kind'], path: JsonPathStep[]): JsonScanProblem =>
    resourceType === undefined ? { kind, path } : { kind, path, resourceType };

  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const depth = isArray.length;
      if (expectName && depth > 0 && !isArray[depth - 1]) {
        const name = stringValue(text, i, end) ?? '';
        step[depth - 1] = name;
        if (FORBIDDEN_MEMBER_NAMES.has(name)) return problem('member', step.slice(0, depth));
        expectName = false;
        readingResourceType = depth === 1 && name === 'resourceType';
      } else if (readingResourceType && depth === 1) {
        resourceType = stringValue(text, i, end);
        readingResourceType = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (isArray.length >= maxDepth) return problem('depth', step.slice(0, isArray.length));
      isArray.push(c === OPEN_ARRAY);
      step.push(0);
      expectName = c === OPEN_OBJECT;
      readingResourceType = false;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      isArray.pop();
      step.pop();
      expectName = false;
      readingResourceType = false;
    } else if (c === COMMA) {
      const top = isArray.length - 1;
      if (top >= 0) {
        if (isArray[top]) step[top] = (step[top] as number) + 1;
        else expectName = true;
      }
      readingResourceType = false;
    }
  }
  return undefined;
}

/** `['entry', 0, 'resource']` under `Bundle` → `Bundle.entry[0].resource`; with no root → `entry[0].resource`. */
export function formatJsonPath(path: readonly JsonPathStep[], root = ''): string {
  let out = root;
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}
