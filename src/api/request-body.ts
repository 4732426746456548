// What each route accepts as a body, and turning accepted bytes into the value a handler gets. The adapter reads the
// bytes (it knows the socket); everything about what they may be is decided here, before any of them is interpreted:
// a media type the route does not take is 415 before the body is interpreted, so a megabyte of CSV sent to a JSON
// endpoint is never checked as if it were fields. JSON is refused before JSON.parse when it nests too deep or names a
// member __proto__, constructor or prototype (base/json-scan.ts).
import { badRequest, tooCostly, unsupportedMediaType, OperationOutcomeError, issue } from '../base/outcome.js';
import { FORBIDDEN_MEMBER_NAMES, formatJsonPath, scanJson } from '../base/json-scan.js';
import type { BodyClass, RequestLimits } from './limits.js';

export type BodyKind = 'fhir-json' | 'payload-json' | 'form-urlencoded' | 'sjis-csv';

export interface BodySpec {
  kind: BodyKind;
  /** which body size limit applies (limits.ts) */
  size: BodyClass;
}

interface MediaRule {
  types: readonly string[];
  /** accepted charset names, lower case; a missing charset parameter is accepted unless charsetRequired */
  charsets: readonly string[];
  charsetRequired: boolean;
  /** how the accepted form is spelt in a refusal */
  say: string;
}

const UTF8 = ['utf-8', 'utf8'];
// The names IANA and the WHATWG Encoding standard give Shift_JIS and its Microsoft superset (the care-plan CSV
// standard's files are MS932); iconv-lite decodes all of them the same way.
const SHIFT_JIS = [
  'shift_jis',
  'shift-jis',
  'sjis',
  'x-sjis',
  'ms932',
  'cp932',
  'windows-31j',
  'csshiftjis',
  'ms_kanji',
];

export const MEDIA: Readonly<Record<BodyKind, MediaRule>> = {
  'fhir-json': {
    types: ['application/fhir+json', 'application/json'],
    charsets: UTF8,
    charsetRequired: false,
    say: 'application/fhir+json (or application/json), UTF-8',
  },
  'payload-json': {
    types: ['application/json', 'application/fhir+json'],
    charsets: UTF8,
    charsetRequired: false,
    say: 'application/json, UTF-8',
  },
  'form-urlencoded': {
    types: ['application/x-www-form-urlencoded'],
    charsets: UTF8,
    charsetRequired: false,
    say: 'application/x-www-form-urlencoded, UTF-8',
  },
  'sjis-csv': {
    types: ['text/csv'],
    charsets: SHIFT_JIS,
    charsetRequired: true,
    say: 'text/csv; charset=Shift_JIS',
  },
};

/** `text/csv; charset="Shift_JIS"` → { type: 'text/csv', params: { charset: 'Shift_JIS' } }; undefined if malformed. */
export function parseMediaType(header: string): { type: string; params: Record<string, string> } | undefined {
  const [head, ...rest] = header.split(';');
  const type = head!.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return undefined;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (p.trim() === '') continue;
      return undefined;
    }
    const name = p.slice(0, eq).trim().toLowerCase();
    let value = p.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name === '') return undefined;
    params[name] = value;
  }
  return { type, params };
}

/**
 * Refuses (415) a request whose body is of a media type the route does not take. Called before the body is read; a
 * request without a body passes (whether one is required is the OpenAPI check's to say).
 */
export function checkMediaType(
  spec: BodySpec,
  contentType: string | undefined,
  contentEncoding: string | undefined,
): void {
  const rule = MEDIA[spec.kind];
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity')
    throw new OperationOutcomeError(415, [
      issue(
        'not-supported',
        `Content-Encoding ${contentEncoding} is not accepted; send the body unencoded`,
        'Content-Encoding',
      ),
    ]);
  if (contentType === undefined || contentType.trim() === '')
    throw unsupportedMediaType(`a request body needs a Content-Type; send ${rule.say}`);
  const mt = parseMediaType(contentType);
  if (!mt || !rule.types.includes(mt.type))
    throw unsupportedMediaType(`Content-Type ${contentType} is not accepted here; send ${rule.say}`);
  const charset = mt.params.charset?.toLowerCase();
  if (charset === undefined ? rule.charsetRequired : !rule.charsets.includes(charset))
    throw unsupportedMediaType(
      `Content-Type ${contentType}: ${charset === undefined ? 'a charset is required' : `charset ${mt.params.charset} is not accepted`}; send ${rule.say}`,
    );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function utf8Text(bytes: Buffer): string {
  try {
    return utf8.decode(bytes); // a leading byte order mark is dropped, as RFC 8259 allows
  } catch {
    throw badRequest('the body is not valid UTF-8');
  }
}

/** JSON text → value, refusing depth and prototype-member trouble first; `root` names the top of a path. */
function jsonValue(text: string, limits: RequestLimits, root: string): unknown {
  const problem = scanJson(text, limits.jsonDepth);
  if (problem?.kind === 'depth')
    throw tooCostly(
      400,
      `the body nests deeper than ${limits.jsonDepth} levels of arrays and objects`,
      formatJsonPath(problem.path, problem.resourceType ?? root),
    );
  if (problem?.kind === 'member') {
    const at = formatJsonPath(problem.path, problem.resourceType ?? root);
    throw new OperationOutcomeError(400, [
      issue(
        'structure',
        `member name ${String(problem.path.at(-1))} is not allowed (it is an object prototype name)`,
        at,
      ),
    ]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new OperationOutcomeError(400, [issue('structure', `the body is not JSON: ${(e as Error).message}`)]);
  }
}

/**
 * A form-encoded body or a query string → parameters (a repeated name gives an array), in an object without a
 * prototype. Percent-encoding that is not UTF-8 is refused rather than turned into U+FFFD, so what a search compares
 * is what the client meant.
 */
export function formValue(text: string, limits: RequestLimits, what = 'form'): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  if (text === '') return out;
  const pairs = text.split('&');
  if (pairs.length > limits.formParams)
    throw tooCostly(400, `the ${what} has ${pairs.length} parameters; at most ${limits.formParams} are accepted`);
  const decode = (s: string, part: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      throw badRequest(`${what} ${part} ${JSON.stringify(s.slice(0, 40))} is not valid percent-encoded UTF-8`);
    }
  };
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq), 'parameter name');
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1), 'value');
    if (FORBIDDEN_MEMBER_NAMES.has(name)) throw badRequest(`parameter name ${name} is not allowed`, name);
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/**
 * The accepted bytes of a body (already within the size limit) → what the handler gets: parsed JSON, form
 * parameters, or the bytes themselves for a Shift-JIS CSV file. An empty body is no body.
 */
export function decodeBody(spec: BodySpec, bytes: Buffer, limits: RequestLimits, root: string): unknown {
  if (bytes.length === 0) return undefined;
  switch (spec.kind) {
    case 'sjis-csv':
      return bytes;
    case 'form-urlencoded':
      return formValue(utf8Text(bytes), limits);
    case 'fhir-json':
    case 'payload-json': {
      const text = utf8Text(bytes);
      if (text.trim() === '') return undefined;
      return jsonValue(text, limits, spec.kind === 'fhir-json' ? root : '');
    }
  }
}
