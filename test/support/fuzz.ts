// Generated bad requests for every endpoint, from a fixed seed (fast-check), and the checks every answer must pass:
// a 4xx OperationOutcome (never a 5xx, never a success), within 2 s, the store unchanged, /readyz ready throughout.
// test/fuzz.test.ts runs 1,000 of them; bench/fuzz.ts runs 10,000 and writes the report.
//
// Every generator is built so that what it makes is wrong by construction (a JSON text cut before its end, a body
// one byte over its limit, a forged organisation code, a urn:uuid no entry has…): a request that the gateway
// accepted would be a finding, not noise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { formToFhir } from '../../src/engine/forms/translate.js';
import { loadFormRegistry } from '../../src/engine/forms/registry.js';
import { formatFileName } from '../../src/services/careplan-csv/file-name.js';

export const FUZZ_SEED = 20_261_205;

/** Limits of the gateway under fuzz: small, so that "just over the limit" bodies are cheap to send. */
export const FUZZ_LIMITS = {
  bodyBytes: { bundle: 256 * 1024, resource: 64 * 1024, form: 64 * 1024, search: 4096, csv: 128 * 1024 },
  jsonDepth: 64,
  bundleEntries: 50,
};

type ClientName = 'hospital' | 'municipality' | 'care-office';

export interface HostileRequest {
  /** the generator that made it */
  kind: string;
  client: ClientName;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const HOSPITAL = '1311234567';
const OFFICE = '1370000018';
const FHIR = 'application/fhir+json';
const JSON_TYPE = 'application/json';
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

// ------------------------------------------------------------------------------------------------ valid bases

const base = (() => {
  const payload = JSON.parse(
    readFileSync(new URL('../samples/shujii-ikensho/full.json', import.meta.url), 'utf8'),
  ) as Record<string, any>;
  payload.header.institution.code = HOSPITAL;
  const def = loadFormRegistry().get('shujii-ikensho')!;
  const { id: _id, ...qr } = formToFhir(def, payload, { now: '2026-11-23T10:00:00+09:00' }).questionnaireResponse;
  return {
    payload,
    qr: qr as Record<string, unknown>,
    patient: {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:kaigo-fuzz', value: 'p' }],
      name: [{ text: '試験 花子', family: '試験', given: ['花子'] }],
      gender: 'female',
      birthDate: '1940-03-01',
    },
    organization: { resourceType: 'Organization', name: '試験病院' },
    practitioner: { resourceType: 'Practitioner', name: [{ text: '試験 医師' }] },
  };
})();

const resourceOf = (type: string): Record<string, unknown> =>
  structuredClone(
    type === 'Patient'
      ? base.patient
      : type === 'Organization'
        ? base.organization
        : type === 'Practitioner'
          ? base.practitioner
          : base.qr,
  );

const CREATE_TYPES = ['Patient', 'Practitioner', 'Organization', 'QuestionnaireResponse'] as const;

/** A valid JSON text for each JSON endpoint, to break. */
const jsonTarget = fc.oneof(
  fc.constantFrom(...CREATE_TYPES).map((t) => ({ path: `/fhir/${t}`, value: resourceOf(t) as unknown })),
  fc.constant({ path: '/forms/shujii-ikensho', value: structuredClone(base.payload) as unknown }),
  fc.constant({
    path: '/fhir',
    value: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: base.patient, request: { method: 'POST', url: 'Patient' } }],
    } as unknown,
  }),
);

const post = (
  kind: string,
  path: string,
  body: Buffer,
  type = FHIR,
  client: ClientName = 'hospital',
): HostileRequest => ({
  kind,
  client,
  method: 'POST',
  path,
  headers: { 'content-type': type },
  body,
});
const typeFor = (path: string): string => (path.startsWith('/forms') ? JSON_TYPE : FHIR);

// ------------------------------------------------------------------------------------------------ generators

/** JSON that is not JSON: cut before its end, with garbage after it or before it, or single-quoted. */
const brokenJson = fc
  .tuple(
    jsonTarget,
    fc.nat(),
    fc.constantFrom('cut', 'after', 'before', 'quotes', 'nul'),
    fc.constantFrom('}', ',', 'x', ']', '"'),
  )
  .map(([t, n, how, g]) => {
    const text = JSON.stringify(t.value);
    const broken =
      how === 'cut'
        ? text.slice(0, 1 + (n % (text.length - 1)))
        : how === 'after'
          ? text + g
          : how === 'before'
            ? g + text
            : how === 'quotes'
              ? text.replace(/"/g, "'")
              : text.slice(0, text.length >> 1) + '\u0000' + text.slice(text.length >> 1);
    return post('broken JSON', t.path, utf8(broken), typeFor(t.path));
  });

/** A body over its route's limit by 1 to 20,000 bytes. */
const hugeBody = fc
  .tuple(
    fc.constantFrom(
      { path: '/fhir/Patient', limit: FUZZ_LIMITS.bodyBytes.resource },
      { path: '/forms/shujii-ikensho', limit: FUZZ_LIMITS.bodyBytes.form },
      { path: '/fhir', limit: FUZZ_LIMITS.bodyBytes.bundle },
    ),
    fc.integer({ min: 1, max: 20_000 }),
  )
  .map(([t, over]) => {
    const head = '{"resourceType":"Patient","text":"';
    const tail = '"}';
    const pad = 'あ'.repeat(Math.ceil((t.limit + over - head.length - tail.length) / 3));
    return post('huge JSON', t.path, utf8(head + pad + tail), typeFor(t.path));
  });

/** JSON nested 65 to 3,000 levels deep, inside an otherwise ordinary body. */
const deepJson = fc
  .tuple(jsonTarget, fc.integer({ min: FUZZ_LIMITS.jsonDepth + 1, max: 3000 }), fc.boolean())
  .map(([t, depth, arrays]) => {
    const open = arrays ? '['.repeat(depth) : '{"a":'.repeat(depth);
    const close = arrays ? ']'.repeat(depth) : '}'.repeat(depth);
    const text = JSON.stringify(t.value).replace(/^\{/, `{"deep":${open}1${close},`);
    return post('deep JSON', t.path, utf8(text), typeFor(t.path));
  });

/** A FHIR resource with an element of the wrong JSON type, or a body that is not a resource of the URL's type. */
const wrongTypes = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('Patient', 'Practitioner', 'Organization'),
      fc.constantFrom('name', 'identifier', 'telecom', 'address', 'active', 'meta', 'text', 'extension'),
      fc.constantFrom<unknown>(19400301, 'a string', true, { nested: {} }, [1, 2], [null]),
    )
    // (the two combinations that are R4: active true, and an Organization's name as a string)
    .filter(
      ([type, field, v]) =>
        !(field === 'active' && v === true) && !(type === 'Organization' && field === 'name' && v === 'a string'),
    )
    .map(([type, field, v]) =>
      post('wrong JSON types', `/fhir/${type}`, utf8(JSON.stringify({ ...resourceOf(type), [field]: v }))),
    ),
  fc
    .tuple(
      fc.constantFrom('Patient', 'Organization', 'QuestionnaireResponse'),
      fc.constantFrom<unknown>([], 'x', 1, null, { resourceType: 'Observation' }),
    )
    .map(([type, v]) => post('not a resource of that type', `/fhir/${type}`, utf8(JSON.stringify(v)))),
  fc
    .constantFrom<unknown>([], 'x', 1, null, true, { header: [] }, { header: 'x' }, { header: { insuredNumber: 12 } })
    .map((v) => post('wrong JSON types', '/forms/shujii-ikensho', utf8(JSON.stringify(v)), JSON_TYPE)),
);

const BAD_JSON_MEDIA = [
  'text/csv',
  'text/plain',
  'application/xml',
  'application/fhir+xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=shift_jis',
  'application/fhir+json; charset=iso-8859-1',
  'application/octet-stream',
  'json',
  '*/*',
];

/** A body of a media type its endpoint does not take. */
const wrongMedia = fc.oneof(
  fc
    .tuple(jsonTarget, fc.constantFrom(...BAD_JSON_MEDIA))
    .map(([t, type]) => post('wrong media type', t.path, utf8(JSON.stringify(t.value)), type)),
  fc
    .tuple(
      fc.constantFrom('Patient', 'DocumentReference', 'QuestionnaireResponse'),
      fc.constantFrom('application/json', FHIR, 'text/csv', 'text/plain', 'multipart/form-data; boundary=x'),
    )
    .map(([type, media]) => post('wrong media type', `/fhir/${type}/_search`, utf8('_count=1'), media)),
  fc
    .constantFrom(
      'text/csv',
      'text/csv; charset=utf-8',
      'application/json',
      'text/plain; charset=Shift_JIS',
      'application/octet-stream',
    )
    .map((media): HostileRequest => ({
      kind: 'wrong media type',
      client: 'care-office',
      method: 'PUT',
      path: `/careplan-csv/${csvName('20240425120000')}`,
      headers: { 'content-type': media },
      body: utf8('202407,131011'),
    })),
);

function csvName(timestamp: string, office = OFFICE): string {
  return formatFileName({
    type: 'UPPLAN',
    month: '202405',
    senderOffice: office,
    senderServiceType: '43',
    receiverOffice: '1371000009',
    receiverServiceType: '15',
    timestamp,
  });
}

const INVALID_UTF8 = [[0x80], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xe3, 0x81]];
// Bytes MS932 does not define as a character, or a lead byte without a valid trail byte.
const INVALID_SJIS = [[0x80], [0xa0], [0xfd], [0xfe], [0xff], [0x81, 0x20], [0x82, 0x0d]];

/** JSON with bytes that are not UTF-8 in a string; a care-plan file with bytes that are not Shift-JIS. */
const badEncoding = fc.oneof(
  fc.tuple(jsonTarget, fc.constantFrom(...INVALID_UTF8)).map(([t, bytes]) => {
    const text = JSON.stringify({ ...(t.value as object), junk: 'XX' });
    const at = text.indexOf('XX') + 1;
    return post(
      'invalid UTF-8',
      t.path,
      Buffer.concat([utf8(text.slice(0, at)), Buffer.from(bytes), utf8(text.slice(at))]),
      typeFor(t.path),
    );
  }),
  fc.tuple(fc.constantFrom(...INVALID_SJIS), fc.integer({ min: 0, max: 99 })).map(([bytes, n]): HostileRequest => ({
    kind: 'invalid Shift-JIS',
    client: 'care-office',
    method: 'PUT',
    path: `/careplan-csv/${csvName(`202404251200${String(n).padStart(2, '0')}`)}`,
    headers: { 'content-type': 'text/csv; charset=Shift_JIS' },
    body: Buffer.concat([Buffer.from('202407,131011,"'), Buffer.from(bytes), Buffer.from('"\r\n')]),
  })),
);

/** File names a care-plan file may not have, or one that names another office as its sender. */
const oddFileNames = fc
  .constantFrom(
    'upplan_202405_1370000018_43_1371000009_15_20240425120000.csv',
    '..%2F..%2Fetc%2Fpasswd.CSV',
    '%2E%2E.CSV',
    encodeURIComponent('ＵＰＰＬＡＮ_202405.CSV'),
    `${'A'.repeat(81)}.CSV`,
    'XXXXXX_1370000018_43_1371000009_15_20240425120000.CSV',
    'UPPLAN_202405_1370000018_43_1371000009_15_20241345120000.CSV',
    'UPPLAN_202413_1370000018_43_1371000009_15_20240425120000.CSV',
    csvName('20240425120000', '1370000019'),
    'UPPLAN.CSV',
    encodeURIComponent('UPPLAN\u0000.CSV'),
  )
  .chain((name) =>
    fc.constantFrom('PUT', 'GET').map((method): HostileRequest => ({
      kind: 'odd file name',
      client: 'care-office',
      method,
      path: `/careplan-csv/${name}`,
      headers: method === 'PUT' ? { 'content-type': 'text/csv; charset=Shift_JIS' } : {},
      ...(method === 'PUT' ? { body: Buffer.from('202407,131011\r\n') } : {}),
    })),
  );

const GATEWAY_PROFILES = [
  'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-documentreference',
  'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-document-bundle',
  'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-questionnaireresponse',
];

/**
 * A resource declaring a profile the gateway interprets but of another type, or answering the wrong form. (A
 * profile the gateway does not hold is only a claim it cannot check: accepted with an informational issue.)
 */
const wrongProfile = fc.oneof(
  fc
    .tuple(fc.constantFrom('Patient', 'Practitioner', 'Organization'), fc.constantFrom(...GATEWAY_PROFILES))
    .map(([type, profile]) =>
      post(
        'wrong profile',
        `/fhir/${type}`,
        utf8(JSON.stringify({ ...resourceOf(type), meta: { profile: [profile] } })),
      ),
    ),
  fc
    .constantFrom(
      'http://kaigo-gateway.jp/fhir/Questionnaire/hihokensha-sho|1.0.0',
      'http://kaigo-gateway.jp/fhir/Questionnaire/no-such-form',
      'http://example.org/Questionnaire/x',
    )
    .map((questionnaire) =>
      post('wrong profile', '/fhir/QuestionnaireResponse', utf8(JSON.stringify({ ...base.qr, questionnaire }))),
    ),
);

/** Codes of other organisations where only the caller's own may stand, and malformed conditions. */
const forgedIdentifiers = fc.oneof(
  fc
    .integer({ min: 1_000_000_000, max: 9_999_999_999 })
    .filter((n) => String(n) !== HOSPITAL)
    .map((n) => {
      const p = structuredClone(base.payload);
      p.header.institution.code = String(n);
      return post('forged identifier', '/forms/shujii-ikensho', utf8(JSON.stringify(p)), JSON_TYPE);
    }),
  fc
    .integer({ min: 1_000_000_000, max: 9_999_999_999 })
    .filter((n) => String(n) !== HOSPITAL)
    .map((n) =>
      post(
        'forged identifier',
        '/fhir/Organization',
        utf8(
          JSON.stringify({
            resourceType: 'Organization',
            name: '偽',
            identifier: [
              { system: 'http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no', value: String(n) },
            ],
          }),
        ),
      ),
    ),
  fc
    .integer({ min: 100_000, max: 999_999 })
    .filter((n) => n !== 131011)
    .map((n): HostileRequest => ({
      ...post(
        'forged identifier',
        '/fhir/Organization',
        utf8(
          JSON.stringify({
            resourceType: 'Organization',
            name: '偽保険者',
            identifier: [{ system: 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber', value: String(n) }],
          }),
        ),
      ),
      client: 'municipality',
    })),
  fc.constantFrom('identifier=nobar', 'name=x', 'identifier=|', 'identifier=a|b&name=c', '', '?').map((cond) => ({
    ...post('forged identifier', '/fhir/Patient', utf8(JSON.stringify(base.patient))),
    headers: { 'content-type': FHIR, 'if-none-exist': cond },
  })),
  fc
    .constantFrom('hihokensha-sho', 'kyotaku-careplan-1', 'nintei-chosahyo')
    .map((form) => post('forged identifier', `/forms/${form}`, utf8(JSON.stringify(base.payload)), JSON_TYPE)),
);

const urn = (n: number): string => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Transactions whose references name no entry or nothing stored, or name an entry that cannot be stored. */
const badReferences = fc
  .tuple(
    fc.integer({ min: 1, max: 8 }),
    fc.constantFrom('dangling urn', 'missing relative', 'forward to invalid', 'bad shape'),
    fc.nat(),
  )
  .map(([n, how, salt]) => {
    const entry: object[] = [];
    for (let i = 0; i < n; i++)
      entry.push({
        fullUrl: urn(i),
        resource: {
          resourceType: 'Organization',
          name: `組織${i}`,
          ...(i > 0 ? { partOf: { reference: urn(i - 1) } } : {}),
        },
        request: { method: 'POST', url: 'Organization' },
      });
    const ref =
      how === 'dangling urn'
        ? urn(1000 + (salt % 1000))
        : how === 'missing relative'
          ? `Organization/missing-${salt}`
          : how === 'forward to invalid'
            ? urn(n)
            : ['Organization/../../etc/passwd', 'Organization/', '/Organization/1', 'file:///etc/passwd', '#'][
                salt % 5
              ]!;
    entry.unshift({
      resource: { resourceType: 'Patient', managingOrganization: { reference: ref } },
      request: { method: 'POST', url: 'Patient' },
    });
    if (how === 'forward to invalid')
      entry.push({
        fullUrl: urn(n),
        resource: { resourceType: 'Organization', name: 1 },
        request: { method: 'POST', url: 'Organization' },
      });
    return post(
      'dangling or forward reference',
      '/fhir',
      utf8(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry })),
    );
  });

/** Search parameters a search must refuse. */
const hostileSearch = fc
  .tuple(
    fc.constantFrom('Patient', 'DocumentReference', 'QuestionnaireResponse', 'Organization', 'Practitioner', 'Foo'),
    fc.oneof(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/).map((s) => `zz-${s}=1`),
      fc.constantFrom('name:exact=x', 'identifier:missing=true', '_id:not=1', 'subject:Patient=x', 'status:text=a'),
      fc.constantFrom('_count=0', '_count=-1', '_count=101', '_count=abc', '_count=1e9', '_offset=-1', '_offset=x'),
      fc.constantFrom(
        '_sort=name',
        '_sort=__proto__',
        '_sort=',
        '_include=*',
        '_has:Observation:patient:code=1',
        '_summary=true',
      ),
      fc.constantFrom('__proto__=1', 'constructor=x', 'prototype=1', 'name=%E0%A4%A', '%FF=1', 'identifier='),
      fc.constantFrom(
        '_lastUpdated=ge2024-13-01',
        '_lastUpdated=yesterday',
        '_lastUpdated=lt',
        '_lastUpdated=2024-02-30',
      ),
    ),
    fc.boolean(),
  )
  .map(([type, q, asForm]) =>
    asForm
      ? post('hostile search parameters', `/fhir/${type}/_search`, utf8(q), 'application/x-www-form-urlencoded')
      : {
          kind: 'hostile search parameters',
          client: 'hospital' as const,
          method: 'GET',
          path: `/fhir/${type}?${q}`,
          headers: {},
        },
  );

/** Unicode where it cannot be right: look-alike types and paths, full-width digits, bidi and zero-width marks. */
const unicodeEdges = fc.oneof(
  fc
    .constantFrom('Pati\u200bent', 'Pat\u202eient', 'Ｐａｔｉｅｎｔ', 'Patient\u0000', 'patient', 'PATIENT')
    .map((rt) =>
      post('unicode edge cases', '/fhir/Patient', utf8(JSON.stringify({ ...base.patient, resourceType: rt }))),
    ),
  fc.constantFrom('０００１２３４５６７', '000123456７', '0001234567\u200b', '\u202e0001234567', '').map((n) => {
    const p = structuredClone(base.payload);
    p.header.insuredNumber = n;
    return post('unicode edge cases', '/forms/shujii-ikensho', utf8(JSON.stringify(p)), JSON_TYPE);
  }),
  fc
    .constantFrom('\ud800', '\udfff', '\ud83d', 'a\udc00b')
    .map((s) =>
      post(
        'unicode edge cases',
        '/fhir/Patient',
        utf8(JSON.stringify({ ...base.patient, name: [{ text: s }], gender: s })),
      ),
    ),
  fc
    .constantFrom(
      '/fhir/Patient/%E2%80%AE1',
      '/fhir/Patient/%00',
      '/fhir/%EF%BC%B0atient/1',
      '/forms/%E4%B8%BB%E6%B2%BB%E5%8C%BB',
      '/forms/shujii-ikensho/..%2F..%2Fx',
      '/fhir/Patient/' + 'x'.repeat(65),
      '/%E0%A4%A',
    )
    .map((path): HostileRequest => ({
      kind: 'unicode edge cases',
      client: 'hospital',
      method: 'GET',
      path,
      headers: {},
    })),
);

/** Methods no route has for the path. */
const wrongMethods = fc
  .tuple(
    fc.constantFrom('DELETE', 'PATCH', 'PUT', 'OPTIONS'),
    fc.constantFrom('/fhir/Patient/1', '/fhir/Patient', '/fhir', '/forms/shujii-ikensho', '/fhir/metadata'),
  )
  .map(([method, path]): HostileRequest => ({ kind: 'wrong method', client: 'hospital', method, path, headers: {} }));

const ALL = fc.oneof(
  brokenJson,
  hugeBody,
  deepJson,
  wrongTypes,
  wrongMedia,
  badEncoding,
  oddFileNames,
  wrongProfile,
  forgedIdentifiers,
  badReferences,
  hostileSearch,
  unicodeEdges,
  wrongMethods,
);

/** `count` bad requests, the same ones for the same seed. */
export const hostileRequests = (count: number, seed = FUZZ_SEED): HostileRequest[] =>
  fc.sample(ALL, { seed, numRuns: count });

// ------------------------------------------------------------------------------------------------ running them

export interface FuzzFailure {
  kind: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  why: string;
}

export interface FuzzReport {
  seed: number;
  count: number;
  seconds: number;
  byKind: Record<string, { n: number; statuses: Record<string, number> }>;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  largestResponseBytes: number;
  failures: FuzzFailure[];
  readyz: { probes: number; notReady: number; maxMs: number };
  rows: { before: Record<string, number>; after: Record<string, number> };
}

const TABLES = ['resources', 'resource_history', 'search_index'];

function rowCounts(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'kaigo-gateway.sqlite'), { readonly: true });
  try {
    return Object.fromEntries(
      TABLES.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n]),
    );
  } finally {
    db.close();
  }
}

const percentileOf = (sorted: number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

/** What is wrong with one answer, or undefined when it is a proper refusal. */
function check(
  status: number,
  contentType: string | undefined,
  text: string,
  ms: number,
  requestId: unknown,
): string | undefined {
  if (status < 400 || status > 499) return `status ${status}`;
  if (ms > 2000) return `took ${Math.round(ms)} ms`;
  if (typeof requestId !== 'string' || requestId === '') return 'no X-Request-Id';
  if (!/^application\/fhir\+json/.test(contentType ?? '')) return `Content-Type ${contentType}`;
  let body: { resourceType?: unknown; issue?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return 'body is not JSON';
  }
  if (body.resourceType !== 'OperationOutcome') return 'body is not an OperationOutcome';
  if (!Array.isArray(body.issue) || body.issue.length === 0 || body.issue.length > 101) return 'bad issue list';
  return undefined;
}

/**
 * Sends `requests` to the gateway, `concurrency` at a time, while /readyz is probed every 50 ms; compares the
 * store's row counts before and after (every request is bad, so nothing may be written, not even half).
 */
export async function runFuzz(
  gw: { url: string; pkiDir: string; dataDir: string },
  requests: HostileRequest[],
  opts: { seed?: number; concurrency?: number } = {},
): Promise<FuzzReport> {
  const agents = new Map<ClientName, Agent>();
  const agentOf = (name: ClientName): Agent => {
    let a = agents.get(name);
    if (!a) {
      a = new Agent({
        connections: 16,
        connect: {
          ca: readFileSync(join(gw.pkiDir, 'ca.crt')),
          cert: readFileSync(join(gw.pkiDir, `${name}.crt`)),
          key: readFileSync(join(gw.pkiDir, `${name}.key`)),
          servername: 'localhost',
        },
      });
      agents.set(name, a);
    }
    return a;
  };
  const before = rowCounts(gw.dataDir);
  const started = performance.now();

  const ready = { probes: 0, notReady: 0, maxMs: 0 };
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const t = performance.now();
      try {
        const r = await request(`${gw.url}/readyz`, { dispatcher: agentOf('municipality') });
        await r.body.text();
        if (r.statusCode !== 200) ready.notReady++;
      } catch {
        ready.notReady++;
      }
      ready.probes++;
      ready.maxMs = Math.max(ready.maxMs, performance.now() - t);
      await new Promise((res) => setTimeout(res, 50));
    }
  })();

  const byKind: FuzzReport['byKind'] = {};
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const failures: FuzzFailure[] = [];
  let largest = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const r = requests[next++]!;
      const t = performance.now();
      let status = 0;
      let why: string | undefined;
      try {
        const res = await request(`${gw.url}${r.path}`, {
          method: r.method as 'GET',
          dispatcher: agentOf(r.client),
          headers: r.headers,
          ...(r.body !== undefined ? { body: r.body } : {}),
        });
        const text = await res.body.text();
        status = res.statusCode;
        largest = Math.max(largest, text.length);
        why = check(
          status,
          res.headers['content-type'] as string | undefined,
          text,
          performance.now() - t,
          res.headers['x-request-id'],
        );
      } catch (e) {
        why = `request failed: ${(e as Error).message}`;
      }
      const ms = performance.now() - t;
      latencies.push(ms);
      const k = (byKind[r.kind] ??= { n: 0, statuses: {} });
      k.n++;
      k.statuses[String(status)] = (k.statuses[String(status)] ?? 0) + 1;
      statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
      if (why)
        failures.push({ kind: r.kind, method: r.method, path: r.path.slice(0, 120), status, ms: Math.round(ms), why });
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  } finally {
    probing = false;
    await prober;
    await Promise.all([...agents.values()].map((a) => a.close()));
  }
  latencies.sort((a, b) => a - b);
  return {
    seed: opts.seed ?? FUZZ_SEED,
    count: requests.length,
    seconds: (performance.now() - started) / 1000,
    byKind,
    statuses,
    latencyMs: { p50: percentileOf(latencies, 50), p99: percentileOf(latencies, 99), max: latencies.at(-1) ?? NaN },
    largestResponseBytes: largest,
    failures,
    readyz: ready,
    rows: { before, after: rowCounts(gw.dataDir) },
  };
}
