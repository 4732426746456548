// How GET /fhir/DocumentReference?insured-number=… scales with the number of stored documents: the municipality's
// search through the router's handle() (in process, no HTTP), 3 matches, while other DocumentReferences in the
// municipality's scope are added by copying a stored one in SQL (new id, another insured number) — the same rows a
// POST would write for the DocumentReference, without paying 20 ms per POST to get there. Prints the query plan.
// Not part of npm run bench.
//
//   TZ=Asia/Tokyo node --import tsx bench/profile-search.ts      (≈ 15 s)
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import type { GatewayRequest } from '../src/api/request.js';
import { parseSearch } from '../src/engine/search/search-query.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { createOpenApiCheck } from '../src/adapters/http/openapi-check.js';
import { handle } from '../src/api/router.js';
import { runSearch } from '../src/engine/storage/sql-search-run.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { fmt, markdownTable, median } from './lib.js';
import { recording, sqlitePlan, sqliteSql } from '../test/support/search-plans.js';

const dir = mkdtempSync(join(tmpdir(), 'kaigo-bench-search-'));
const file = join(dir, 'bench.sqlite');
const store = new SqliteStore(file);
const ctx = await createGatewayContext(store);
const checkRequest = await createOpenApiCheck(join(PROJECT_ROOT, 'openapi.yaml'));
const sample = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/samples/shujii-ikensho/full.json'), 'utf8')) as {
  header: { documentId: string; insuredNumber: string };
};
const hospital = { kind: 'medical-institution', code: '1311234567', name: 'bench' } as const;
const municipality = { kind: 'municipality', code: '131011', name: 'bench' } as const;

const post = async (documentId: string, insuredNumber: string): Promise<void> => {
  const p = structuredClone(sample);
  p.header.documentId = documentId;
  p.header.insuredNumber = insuredNumber;
  const r = await handle(
    ctx,
    {
      method: 'POST',
      path: '/forms/shujii-ikensho',
      query: {},
      headers: { 'content-type': 'application/json' },
      body: p,
      party: hospital,
      fhirBase: 'https://localhost/fhir',
    },
    { checkRequest },
  );
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
};
for (let i = 0; i < 3; i++) await post(`SEED-${i}`, '0001234567');
await post('TEMPLATE', '9000000000');

const search: GatewayRequest = {
  method: 'GET',
  path: '/fhir/DocumentReference',
  query: { 'insured-number': '0001234567' },
  headers: {},
  body: undefined,
  party: municipality,
  fhirBase: 'https://localhost/fhir',
};
const raw = new Database(file);
const traced = recording(sqliteSql(raw));
await runSearch(
  traced,
  parseSearch('DocumentReference', search.query, ctx.searchParams),
  ctx.policy.scope(municipality),
);
console.log('query plans of the statements the search runs:');
for (const ran of traced.ran) {
  console.log(`  ${ran.sql.slice(0, 100)}…`);
  for (const line of sqlitePlan(raw, ran)) console.log(`    ${line}`);
}

const tmpl = raw
  .prepare(`SELECT id FROM resources WHERE type = 'DocumentReference' AND insured_number = '9000000000'`)
  .get() as { id: string };
const copy = raw.transaction((from: number, to: number) => {
  for (let i = from; i < to; i++) {
    const id = `copy-${i}`;
    const insured = String(8_000_000_000 + i);
    raw
      .prepare(
        `INSERT INTO resources SELECT type, ?, version, last_updated, last_updated_local, updated_ms, author, form, insurer_number, ?, content FROM resources WHERE type = 'DocumentReference' AND id = ?`,
      )
      .run(id, insured, tmpl.id);
    raw
      .prepare(
        `INSERT INTO search_index SELECT type, ?, param, system, CASE WHEN param = 'insured-number' THEN ? ELSE value END, high FROM search_index WHERE type = 'DocumentReference' AND id = ?`,
      )
      .run(id, insured, tmpl.id);
  }
});

const rows: string[][] = [];
let have = 0;
for (const target of [0, 1_000, 10_000, 50_000]) {
  if (target > have) copy(have, target);
  have = Math.max(have, target);
  const rates: number[] = [];
  for (let round = 0; round < 4; round++) {
    let ops = 0;
    const start = performance.now();
    while (performance.now() - start < 500) {
      const r = await handle(ctx, search, { checkRequest });
      if ((r.body as { total?: number }).total !== 3) throw new Error('expected 3 matches');
      ops++;
    }
    if (round > 0) rates.push(ops / ((performance.now() - start) / 1000)); // round 0 is warm-up
  }
  const m = median(rates);
  rows.push([fmt(have + 4), fmt(m), fmt(1000 / m, 2)]);
}
console.log('');
console.log(markdownTable(['DocumentReferences in scope', 'searches/s (handle, sequential)', 'ms/search'], rows));
raw.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
