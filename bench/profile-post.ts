// Where the server time of POST /forms/shujii-ikensho goes, without network: the router's handle() called in
// process, one request at a time, each with a new documentId, in 4 set-ups that differ in one thing each.
//
//   translate+validate      formToFhir + validateDocument only (no router, no store)
//   handle, :memory:        router + openapi check + policy + translate + validate + store, SQLite in memory
//   handle, file, no check  the same on a file database (WAL, synchronous=FULL: fsync per commit), openapi check off
//   handle, file            the same with the openapi check: what the gateway does minus express, TLS, JSON
//                           body parsing and logging
//   search                  GET /fhir/DocumentReference?insured-number=… as the municipality through handle(), 3
//                           matches among every document the set-ups above stored, plus JSON.stringify of the Bundle
//
// 0.5 s warm-up per set-up, then 3 rounds of 1 s windows per set-up, median. Not part of npm run bench.
//
//   TZ=Asia/Tokyo node --import tsx bench/profile-post.ts      (≈ 25 s)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { validateDocument } from '../src/services/documents/submit-document.js';
import type { GatewayRequest } from '../src/api/request.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { formToFhir } from '../src/engine/forms/translate.js';
import { createOpenApiCheck } from '../src/adapters/http/openapi-check.js';
import { handle } from '../src/api/router.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { Store } from '../src/engine/storage/store.js';
import { fmt, markdownTable, median } from './lib.js';

const NOW = '2026-11-23T10:00:00.000+09:00';
const dir = mkdtempSync(join(tmpdir(), 'kaigo-bench-'));
const fileStore = new SqliteStore(join(dir, 'bench.sqlite'));
const memStore = new SqliteStore(':memory:');
const fileCtx = await createGatewayContext(fileStore);
const memCtx = { ...fileCtx, store: memStore as Store };
const checkRequest = await createOpenApiCheck(join(PROJECT_ROOT, 'openapi.yaml'));
const def = fileCtx.forms.get('shujii-ikensho')!;
const template = readFileSync(join(PROJECT_ROOT, 'test/samples/shujii-ikensho/full.json'), 'utf8');
const base = JSON.parse(template) as {
  header: { documentId: string; insuredNumber: string; institution: { code: string } };
};
base.header.institution.code = '1311234567';

let n = 0;
const nextPayload = (): unknown => {
  const p = structuredClone(base);
  p.header.documentId = `PROFILE-${++n}`;
  p.header.insuredNumber = String(9_000_000_000 + n); // a person of their own: the search below matches only the seeded 3
  return p;
};
const request = (body: unknown): GatewayRequest => ({
  method: 'POST',
  path: '/forms/shujii-ikensho',
  query: {},
  headers: { 'content-type': 'application/json' },
  body,
  party: { kind: 'medical-institution', code: '1311234567', name: 'bench' },
  fhirBase: 'https://localhost/fhir',
});

const municipality = { kind: 'municipality', code: '131011', name: 'bench' } as const;
const searchRequest: GatewayRequest = {
  method: 'GET',
  path: '/fhir/DocumentReference',
  query: { 'insured-number': '0001234567' },
  headers: {},
  body: undefined,
  party: municipality,
  fhirBase: 'https://localhost/fhir',
};
for (let i = 0; i < 3; i++) {
  const p = structuredClone(base);
  p.header.documentId = `PROFILE-SEED-${i}`;
  const r = await handle(fileCtx, request(p), { checkRequest });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
}

const setups: Record<string, () => Promise<void>> = {
  'translate+validate': async () => validateDocument(fileCtx, formToFhir(def, nextPayload(), { now: NOW })),
  'handle, :memory:': async () => {
    const r = await handle(memCtx, request(nextPayload()), { checkRequest });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  },
  'handle, file, no check': async () => {
    const r = await handle(fileCtx, request(nextPayload()));
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  },
  'handle, file': async () => {
    const r = await handle(fileCtx, request(nextPayload()), { checkRequest });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  },
  'search (3 matches) + JSON.stringify': async () => {
    const r = await handle(fileCtx, searchRequest, { checkRequest });
    if (r.status !== 200 || (r.body as { total?: number }).total !== 3)
      throw new Error(JSON.stringify(r.body).slice(0, 300));
    JSON.stringify(r.body);
  },
};

async function window(fn: () => Promise<void>, ms: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await fn();
    ops++;
  }
  return ops / ((performance.now() - start) / 1000);
}

for (const fn of Object.values(setups)) await window(fn, 500);
const rates: Record<string, number[]> = {};
for (let i = 0; i < 3; i++)
  for (const [k, fn] of Object.entries(setups)) (rates[k] ??= []).push(await window(fn, 1000));
console.log(
  markdownTable(
    ['set-up (sequential, in process)', 'ops/s', 'ms/op', 'windows'],
    Object.entries(rates).map(([k, xs]) => [
      k,
      fmt(median(xs), 1),
      fmt(1000 / median(xs), 2),
      xs.map((x) => fmt(x)).join(', '),
    ]),
  ),
);
await fileStore.close();
await memStore.close();
rmSync(dir, { recursive: true, force: true });
