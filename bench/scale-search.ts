// How today's search and POST cost grow with the number of stored documents, on stores filled by bench/seed (a
// realistic mix of all 23 forms, 23 municipalities of very different sizes). At each size N, in process, as the
// municipality with the most documents (its read scope, as GET /fhir/DocumentReference would apply it):
//
//   type+date     type=…|shujii-ikensho&date=ge…&date=lt… (one quarter of 主治医意見書 submissions)
//   insured       insured-number= the municipality's person with the most documents
//   insurer       insurer-number= the municipality's 保険者番号 (all of its documents)
//   status        status=current (everything in scope)
//   identifier    identifier= one 被保険者証 of the municipality
//   last page     status=current&_offset= the last page of 20
//
// each through searchResources (parse, SQL, Bundle), compared with a plain indexed SELECT of one DocumentReference
// by primary key on the same SQLite file in the same run (a second, read-only connection); and the POST
// /forms-equivalent (prepareDocument + a transaction with storeDocument, one new document each) at N against the
// same documents into an empty store, alternating. Variants are interleaved in rounds, direction alternating, so
// drift of the shared machine hits all of them alike. Latency p50/p99 in ms; "× base" is p50 ÷ the baseline p50.
//
//   TZ=Asia/Tokyo node --import tsx bench/scale-search.ts                 10k and 100k (≈ 10 min, ≈ 6 GB temporary)
//   TZ=Asia/Tokyo node --import tsx bench/scale-search.ts --with-1m       also 1M (≈ 60 GB of disk, ≈ 1 h more)
//   --sizes 2000,20000 --persons 10000 --seed 42 --seconds 2 --dir DIR --keep
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { searchResources } from '../src/api/endpoints/fhir-search.js';
import type { Party } from '../src/base/party.js';
import { DOCUMENT_ID_SYSTEM } from '../src/base/ids.js';
import { createGatewayContext, type GatewayContext } from '../src/engine/gateway-context.js';
import type { QueryParams } from '../src/engine/search/search-query.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { prepareDocument, storeDocument } from '../src/services/documents/submit-document.js';
import { fmt, isMain, machineInfo, markdownTable, percentile, writeResults, type MachineInfo } from './lib.js';
import { renderPayload } from './seed/sample-slots.js';
import { fillStore, sqliteBytes, type FillResult } from './seed/fill-store.js';
import type { Insurer } from './seed/persons.js';

const BASE = 'https://localhost/fhir';
const DOCUMENT_TYPE = 'http://kaigo-gateway.jp/fhir/CodeSystem/document-type';
/** POST-equivalent documents use indices far beyond any seeded one, so they are new in both stores. */
const POST_INDEX_BASE = 2_000_000_000;

interface Latency {
  ops: number;
  p50: number;
  p99: number;
  max: number;
}

export interface SizeResult {
  documents: number;
  seeding: { documents: number; seconds: number; docsPerSecond: number };
  sqliteBytes: number;
  bytesPerDocument: number;
  municipality: { insurerNumber: string; name: string; documents: number };
  baseline: Latency;
  queries: Array<{ name: string; query: string; matches: number; latency: Latency; timesBaseline: number }>;
  post: { empty: Latency; atN: Latency; storeOnlyEmpty: Latency; storeOnlyAtN: Latency; timesEmpty: number };
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

function latency(xs: number[]): Latency {
  const s = [...xs].sort((a, b) => a - b);
  return { ops: s.length, p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s.at(-1) ?? NaN) };
}

/** Rounds of time slices per variant (at least `minOps` each), order reversing every round. */
async function interleaved(
  variants: Array<{ name: string; run: () => Promise<unknown> | unknown }>,
  seconds: number,
  rounds: number,
  minOps: number,
): Promise<Map<string, number[]>> {
  const out = new Map(variants.map((v) => [v.name, [] as number[]]));
  for (const v of variants) for (let i = 0; i < 3; i++) await v.run(); // warm-up
  const slice = (seconds * 1000) / rounds;
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const lat = out.get(v.name)!;
      const end = performance.now() + slice;
      for (let n = 0; n < minOps || performance.now() < end; n++) {
        const t0 = performance.now();
        await v.run();
        lat.push(performance.now() - t0);
      }
    }
  }
  return out;
}

interface Totals {
  byInsurer: Map<Insurer, number>;
  personDocuments: Uint32Array;
}

function addTotals(t: Totals, r: FillResult): void {
  for (const { insurer, documents } of r.byInsurer)
    t.byInsurer.set(insurer, (t.byInsurer.get(insurer) ?? 0) + documents);
  r.personDocuments.forEach((n, i) => (t.personDocuments[i]! += n));
}

async function measureSize(
  ctx: GatewayContext,
  fill: FillResult,
  totals: Totals,
  file: string,
  n: number,
  opts: { seconds: number; rounds: number; scratch: string },
): Promise<Omit<SizeResult, 'seeding' | 'sqliteBytes' | 'bytesPerDocument'>> {
  const [insurer, insurerDocs] = [...totals.byInsurer].sort((a, b) => b[1] - a[1])[0]!;
  const municipality: Party = { kind: 'municipality', code: insurer.insurerNumber, name: insurer.name };
  const persons = fill.population.persons;
  let busiest = persons.find((p) => p.insurer === insurer)!;
  for (const p of persons)
    if (p.insurer === insurer && totals.personDocuments[p.index]! > totals.personDocuments[busiest.index]!) busiest = p;
  // One 被保険者証 of the municipality: the first such document after a fixed index.
  let identifier: string | undefined;
  for (let i = Math.floor(n / 2); identifier === undefined && i < n; i++) {
    const input = fill.generator.input(i);
    if (input.def.name === 'hihokensha-sho' && input.person.insurer === insurer)
      identifier = fill.templates.document(input).identifier.value!;
  }
  const search = (query: QueryParams) => () => searchResources(ctx, municipality, 'DocumentReference', query, BASE);
  const total = async (query: QueryParams): Promise<number> =>
    ((await search(query)()).body as { total: number }).total;
  const statusTotal = await total({ status: 'current' });
  const queries: Array<{ name: string; query: QueryParams }> = [
    {
      name: 'type+date',
      query: { type: `${DOCUMENT_TYPE}|shujii-ikensho`, date: ['ge2025-04-01', 'lt2025-07-01'] },
    },
    { name: 'insured', query: { 'insured-number': busiest.insuredNumber } },
    { name: 'insurer', query: { 'insurer-number': insurer.insurerNumber } },
    { name: 'status', query: { status: 'current' } },
    { name: 'identifier', query: { identifier: `${DOCUMENT_ID_SYSTEM}|${identifier}` } },
    {
      name: 'last page',
      query: { status: 'current', _offset: String(Math.max(0, Math.floor((statusTotal - 1) / 20) * 20)) },
    },
  ];

  const raw = new Database(file, { readonly: true });
  const ids = (
    raw
      .prepare(`SELECT id FROM resources WHERE type = 'DocumentReference' ORDER BY random() LIMIT 1000`)
      .all() as Array<{
      id: string;
    }>
  ).map((r) => r.id);
  const byId = raw.prepare(`SELECT * FROM resources WHERE type = 'DocumentReference' AND id = ?`);
  let k = 0;
  const lat = await interleaved(
    [
      { name: 'baseline', run: () => byId.get(ids[k++ % ids.length]) },
      ...queries.map((q) => ({ name: q.name, run: search(q.query) })),
    ],
    opts.seconds * (queries.length + 1),
    opts.rounds,
    3,
  );
  raw.close();
  const baseline = latency(lat.get('baseline')!);
  const queryResults = [];
  for (const q of queries) {
    const l = latency(lat.get(q.name)!);
    queryResults.push({
      name: q.name,
      query: Object.entries(q.query)
        .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`))
        .join('&'),
      matches: await total(q.query),
      latency: l,
      timesBaseline: round(l.p50 / baseline.p50, 1),
    });
  }

  // POST-equivalent: the same new documents into the store at N and into an empty one.
  const emptyDir = mkdtempSync(join(opts.scratch, 'empty-'));
  const empty = new SqliteStore(join(emptyDir, 'kaigo-gateway.sqlite'));
  const targets = { atN: ctx, empty: { ...ctx, store: empty } };
  const posts = { atN: [] as number[], empty: [] as number[], storeAtN: [] as number[], storeEmpty: [] as number[] };
  const post = async (which: 'atN' | 'empty', i: number, record = true): Promise<void> => {
    const c = targets[which];
    const input = fill.generator.input(POST_INDEX_BASE + n + i);
    const t0 = performance.now();
    const doc = prepareDocument({ ...c, clock: () => input.values.now }, input.party, input.def, {
      ...renderPayload(input.plan, input.values),
    });
    const t1 = performance.now();
    const r = await c.store.transaction((tx) => storeDocument(c, tx, input.party, input.def, doc));
    const t2 = performance.now();
    if (!r.created) throw new Error('POST-equivalent document was not new');
    if (!record) return;
    posts[which].push(t2 - t0);
    posts[which === 'atN' ? 'storeAtN' : 'storeEmpty'].push(t2 - t1);
  };
  for (let i = 0; i < 5; i++) await post('empty', -1 - i, false); // warm-up, the empty store only: N stays N
  const end = performance.now() + opts.seconds * 4000;
  for (let i = 0; i < 20 || (i < 200 && performance.now() < end); i++) {
    for (const w of i % 2 === 0 ? (['atN', 'empty'] as const) : (['empty', 'atN'] as const)) await post(w, i);
  }
  await empty.close();
  rmSync(emptyDir, { recursive: true, force: true });
  const atN = latency(posts.atN);
  const emptyL = latency(posts.empty);
  return {
    documents: n,
    municipality: { insurerNumber: insurer.insurerNumber, name: insurer.name, documents: insurerDocs },
    baseline,
    queries: queryResults,
    post: {
      empty: emptyL,
      atN,
      storeOnlyEmpty: latency(posts.storeEmpty),
      storeOnlyAtN: latency(posts.storeAtN),
      timesEmpty: round(atN.p50 / emptyL.p50, 1),
    },
  };
}

export interface ScaleSearchResults {
  bench: 'scale-search';
  machine: MachineInfo;
  method: { persons: number; seed: string; secondsPerVariant: number; rounds: number };
  sizes: SizeResult[];
}

export async function runScaleSearch(opts: {
  sizes: number[];
  persons: number;
  seed: string;
  seconds: number;
  dir?: string;
  keep?: boolean;
  log?: (s: string) => void;
}): Promise<ScaleSearchResults> {
  const log = opts.log ?? (() => undefined);
  const machine = machineInfo();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kaigo-bench-scale-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kaigo-gateway.sqlite');
  const store = new SqliteStore(file);
  const ctx = await createGatewayContext(store);
  const sizes: SizeResult[] = [];
  let have = 0;
  let fill: FillResult | undefined;
  const totals: Totals = { byInsurer: new Map(), personDocuments: new Uint32Array(opts.persons) };
  try {
    for (const n of [...opts.sizes].sort((a, b) => a - b)) {
      const free = statfsSync(dir);
      log(
        `seeding ${fmt(have)} → ${fmt(n)} documents in ${dir} (${fmt((free.bavail * free.bsize) / 2 ** 30, 1)} GiB free)`,
      );
      const r = await fillStore(store, {
        docs: n - have,
        from: have,
        persons: opts.persons,
        seed: opts.seed,
        ctx,
        ...(fill
          ? { population: fill.population, reuse: { generator: fill.generator, templates: fill.templates } }
          : {}),
        onProgress: ({ done, total, seconds }) => {
          if (done % 50_000 === 0 || done === total)
            log(`  ${fmt(done)} / ${fmt(total)}, ${fmt(done / seconds)} documents/s`);
        },
      });
      fill = r;
      addTotals(totals, r);
      have = n;
      const bytes = sqliteBytes(file);
      log(`measuring at ${fmt(n)} documents`);
      const m = await measureSize(ctx, r, totals, file, n, { seconds: opts.seconds, rounds: 5, scratch: dir });
      sizes.push({
        ...m,
        seeding: { documents: r.documents, seconds: round(r.seconds, 1), docsPerSecond: Math.round(r.docsPerSecond) },
        sqliteBytes: bytes,
        bytesPerDocument: Math.round(bytes / n),
      });
      log(scaleTable(sizes.at(-1)!));
    }
  } finally {
    await store.close();
    if (!opts.keep && !opts.dir) rmSync(dir, { recursive: true, force: true });
  }
  return {
    bench: 'scale-search',
    machine,
    method: { persons: opts.persons, seed: opts.seed, secondsPerVariant: opts.seconds, rounds: 5 },
    sizes,
  };
}

export function scaleTable(s: SizeResult): string {
  const l = (x: Latency): string[] => [fmt(x.p50, 3), fmt(x.p99, 3), fmt(x.ops)];
  return [
    `### ${fmt(s.documents)} documents — ${fmt(s.bytesPerDocument)} bytes/document on disk; seeded at ${fmt(s.seeding.docsPerSecond)} documents/s; as municipality ${s.municipality.insurerNumber} ${s.municipality.name} (${fmt(s.municipality.documents)} documents)`,
    '',
    markdownTable(
      ['variant', 'matches', 'p50 ms', 'p99 ms', 'ops', '× base (p50)'],
      [
        ['baseline: SELECT by primary key', '1', ...l(s.baseline), '1'],
        ...s.queries.map((q) => [`${q.name}: ${q.query}`, fmt(q.matches), ...l(q.latency), fmt(q.timesBaseline, 1)]),
        ['POST-equivalent, empty store', '', ...l(s.post.empty), ''],
        [`POST-equivalent at ${fmt(s.documents)}`, '', ...l(s.post.atN), `${fmt(s.post.timesEmpty, 1)} × empty`],
        ['  of which the store transaction, empty', '', ...l(s.post.storeOnlyEmpty), ''],
        [`  of which the store transaction, at ${fmt(s.documents)}`, '', ...l(s.post.storeOnlyAtN), ''],
      ],
    ),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000' },
      'with-1m': { type: 'boolean', default: false },
      persons: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '42' },
      seconds: { type: 'string', default: '1.5' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  if (values['with-1m']) sizes.push(1_000_000);
  const r = await runScaleSearch({
    sizes,
    persons: Number(values.persons),
    seed: values.seed,
    seconds: Number(values.seconds),
    ...(values.dir ? { dir: values.dir } : {}),
    keep: values.keep,
    log: (s) => console.log(s),
  });
  console.log(`\nwrote ${writeResults('scale-search.json', r)}`);
}
