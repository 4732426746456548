// Checks each request against openapi.yaml before a handler runs: path parameters, query parameters, declared
// headers and the request body. openapi-backend loads the document, resolves every $ref (external files too) and
// compiles one set of ajv validators per operation, once. Per request we only match the path against
// precompiled patterns and run those validators; openapi-backend's own per-request routing and parsing
// (lodash chains, deep clones, a RegExp built per path per call) is bypassed because it costs far more than
// the validation itself.
//
// The validators are Ajv2020 (JSON Schema 2020-12, the dialect of OpenAPI 3.1), plugged in through
// openapi-backend's customizeAjv hook; openapi-backend would otherwise compile with draft-07.
// openapi-backend's definition check is skipped: it knows only OpenAPI 2.0/3.0 and rejects 3.1 documents
// (`type: mutualTLS`, `const`, …); test/openapi.test.ts checks the document instead.
//
// Node 20: openapi-backend (CommonJS) require()s @apidevtools/json-schema-ref-parser 16, which is ESM-only and
// declares node >= 22.19. It works on Node 20.20 because require(esm) is on by default since 20.19 (or through
// tsx's require hook, as under mocha). Started with --no-experimental-require-module and without tsx's
// require hook (e.g. bin/kaigo-gateway.js registers tsx for ESM only), init() fails with ERR_REQUIRE_ESM.
//
// Header names are looked up in lower case, as Node delivers them.
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { OpenAPIBackend, ValidationContext, type Document, type Operation } from 'openapi-backend';
import { issue, type Issue, type IssueCode } from '../../base/outcome.js';
import type { GatewayRequest } from '../../api/request.js';

type BodyKind = 'fhir' | 'form-urlencoded' | 'payload';

interface CompiledOperation {
  method: string;
  /** the path template, e.g. /fhir/{type}/{id} */
  path: string;
  pattern: RegExp;
  /** path template parameter names, in order of the pattern's groups */
  pathParams: string[];
  /** declared header parameters: lower-case name → name as written in the document */
  headers: Map<string, string>;
  /** openapi-backend's compiled validators for this operation (body, then parameters) */
  validators: ValidateFunction[];
  body: BodyKind | undefined;
  /** root name of a FHIR body when fixed by the schema (`Bundle`); otherwise the `type` path parameter */
  fhirRoot: string | undefined;
}

/** openapi-backend's definition check validates against the OpenAPI 3.0 schema only; 3.1 is checked by the tests. */
class OpenApi31Backend extends OpenAPIBackend {
  override validateDefinition(): Document {
    return this.document;
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compilePathTemplate(template: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  let source = '';
  let last = 0;
  for (const m of template.matchAll(/\{([^}]+)\}/g)) {
    source += escapeRegExp(template.slice(last, m.index)) + '([^/]+)';
    names.push(m[1]!);
    last = m.index + m[0].length;
  }
  source += escapeRegExp(template.slice(last));
  // The router accepts a trailing slash on /fhir; allow one everywhere (routing itself is the router's job).
  return { pattern: new RegExp(`^${source}/?$`), names };
}

function bodyKind(op: Operation): BodyKind | undefined {
  const content = (op.requestBody as { content?: Record<string, unknown> } | undefined)?.content;
  if (!content) return undefined;
  if ('application/fhir+json' in content) return 'fhir';
  if ('application/x-www-form-urlencoded' in content) return 'form-urlencoded';
  return 'payload';
}

function fixedResourceType(op: Operation): string | undefined {
  const content = (
    op.requestBody as
      { content?: Record<string, { schema?: { properties?: { resourceType?: { const?: unknown } } } }> } | undefined
  )?.content;
  const rt = content?.['application/fhir+json']?.schema?.properties?.resourceType?.const;
  return typeof rt === 'string' ? rt : undefined;
}

/** `/a/0/b` → `a[0].b` */
function dotted(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/')) {
    if (raw === '') continue;
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^[0-9]+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** ajv's message, with the allowed values spelt out where ajv only says "one of the allowed values". */
function message(e: ErrorObject): string {
  const params = e.params as { allowedValues?: unknown[]; allowedValue?: unknown };
  if (e.keyword === 'enum' && params.allowedValues)
    return `must be one of ${params.allowedValues.map(String).join(', ')}`;
  if (e.keyword === 'const') return `must be ${String(params.allowedValue)}`;
  return e.message ?? 'is invalid';
}

const join = (a: string, b: string): string => (a === '' ? b : b === '' ? a : b.startsWith('[') ? a + b : `${a}.${b}`);

function toIssue(
  e: ErrorObject,
  op: CompiledOperation,
  req: GatewayRequest,
  pathValues: Record<string, string>,
): Issue | undefined {
  const ptr = e.instancePath;
  const missing =
    e.keyword === 'required' ? String((e.params as { missingProperty?: unknown }).missingProperty) : undefined;

  if (ptr === '' && missing === 'requestBody') {
    const root = bodyRoot(op, pathValues);
    return issue('required', `a request body is required (${root})`, root);
  }
  if (ptr === '/requestBody' || ptr.startsWith('/requestBody/')) {
    const root = op.body === 'fhir' ? bodyRoot(op, pathValues) : '';
    const at = join(root, dotted(ptr.slice('/requestBody'.length)));
    if (missing !== undefined) {
      const p = join(at, missing);
      return issue('required', `${p} is required`, p);
    }
    if (e.keyword === 'additionalProperties') {
      const p = join(at, String((e.params as { additionalProperty?: unknown }).additionalProperty));
      return issue('structure', `${p} is not allowed here`, p);
    }
    const where = at || bodyRoot(op, pathValues);
    const code: IssueCode = e.keyword === 'type' ? 'structure' : 'invalid';
    return issue(code, `${where} ${message(e)}`, where);
  }

  // parameters: /path/<name>, /query/<name>, /header/<name>
  const [, where, name] = /^\/(path|query|header|cookie)(?:\/([^/]+))?/.exec(ptr) ?? [];
  if (where === undefined) return issue('invalid', `request ${e.message ?? 'is invalid'}`);
  // Unknown query parameters are not this check's business: search refuses them with the list of supported
  // ones, every other operation ignores them.
  if (where === 'query' && e.keyword === 'additionalProperties') return undefined;
  const rawName = missing ?? (name === undefined ? undefined : name.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (rawName === undefined) return issue('invalid', `${where} ${e.message ?? 'is invalid'}`);
  const paramName = where === 'header' ? (op.headers.get(rawName) ?? rawName) : rawName;
  if (missing !== undefined) return issue('required', `${where} parameter ${paramName} is required`, paramName);
  const value = where === 'path' ? pathValues[rawName] : where === 'query' ? req.query[rawName] : req.headers[rawName];
  const shown = value === undefined ? '' : `=${Array.isArray(value) ? value.join('&') : value}`;
  return issue('invalid', `${paramName}${shown}: ${message(e)}`, paramName);
}

function bodyRoot(op: CompiledOperation, pathValues: Record<string, string>): string {
  if (op.body === 'fhir') return op.fhirRoot ?? pathValues.type ?? 'Resource';
  return op.body === 'payload' ? 'payload' : 'body';
}

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Loads and compiles `file` (openapi.yaml) once; the returned function checks one request and returns its
 * problems (empty = fine). A request that matches no operation of the document gets no issues: routing
 * (404/405) is the router's job.
 */
export async function createOpenApiCheck(file: string): Promise<(req: GatewayRequest) => Issue[]> {
  const api = new OpenApi31Backend({
    definition: file,
    strict: true, // a document that cannot be loaded or resolved fails startup instead of checking nothing
    validate: true,
    quick: false,
    ajvOpts: { allErrors: true, strict: false },
    customizeAjv: (_draft07, opts: Options, context: ValidationContext) =>
      // Params: openapi-backend asks for coercion (query strings → integers); 'array' additionally wraps a single
      // value of a repeatable (array-typed) parameter. Bodies are never coerced.
      new Ajv2020({
        ...opts,
        coerceTypes: context === ValidationContext.Params && opts.coerceTypes ? 'array' : false,
      }),
  });
  await api.init();

  const byMethod = new Map<string, CompiledOperation[]>();
  for (const op of api.router.getOperations()) {
    if (!op.operationId) throw new Error(`${file}: ${op.method.toUpperCase()} ${op.path} has no operationId`);
    const { pattern, names } = compilePathTemplate(op.path);
    const headers = new Map<string, string>();
    for (const p of (op.parameters ?? []) as Array<{ in?: string; name?: string }>) {
      if (p.in === 'header' && p.name) headers.set(p.name.toLowerCase(), p.name);
    }
    const compiled: CompiledOperation = {
      method: op.method.toUpperCase(),
      path: op.path,
      pattern,
      pathParams: names,
      headers,
      validators: api.validator.getRequestValidatorsForOperation(op.operationId) ?? [],
      body: bodyKind(op),
      fhirRoot: fixedResourceType(op),
    };
    const list = byMethod.get(compiled.method) ?? [];
    list.push(compiled);
    byMethod.set(compiled.method, list);
  }
  // Most specific first, as openapi-backend does: literal paths, then by length of the literal part.
  const literal = (p: string): number => p.replace(/\{[^}]*\}/g, '').length;
  for (const list of byMethod.values()) {
    list.sort((a, b) =>
      a.pathParams.length === 0 && b.pathParams.length > 0
        ? -1
        : b.pathParams.length === 0 && a.pathParams.length > 0
          ? 1
          : literal(b.path) - literal(a.path),
    );
  }

  return (req: GatewayRequest): Issue[] => {
    const ops = byMethod.get(req.method) ?? byMethod.get(req.method.toUpperCase());
    if (!ops) return [];
    let op: CompiledOperation | undefined;
    let m: RegExpExecArray | null = null;
    for (const candidate of ops) {
      m = candidate.pattern.exec(req.path);
      if (m) {
        op = candidate;
        break;
      }
    }
    if (!op || !m) return [];

    const path: Record<string, string> = {};
    for (let i = 0; i < op.pathParams.length; i++) path[op.pathParams[i]!] = m[i + 1]!;
    // Copies: the parameter validator coerces in place, and the caller's request must stay as it came.
    const query: Record<string, string | string[]> = {};
    for (const k in req.query) {
      const v = req.query[k];
      if (v !== undefined) query[k] = Array.isArray(v) ? v.slice() : v;
    }
    let header: Record<string, string> = EMPTY_HEADERS;
    if (op.headers.size) {
      header = {};
      for (const lower of op.headers.keys()) {
        const v = req.headers[lower];
        if (v !== undefined) header[lower] = v;
      }
    }
    const input: Record<string, unknown> = { path, query, header };
    if (req.body !== undefined) input.requestBody = req.body;

    let issues: Issue[] | undefined;
    for (const validate of op.validators) {
      if (validate(input)) continue;
      for (const e of validate.errors ?? []) {
        const i = toIssue(e, op, req, path);
        if (i) (issues ??= []).push(i);
      }
    }
    return issues ?? [];
  };
}
