// Bytes the store keeps per document, against the document Bundle's own JSON size, on SQLite and PostgreSQL; and
// the CPU cost of compressing stored content, against a JSON floor of the same Bundle in the same run.
//
//   size   N documents (BENCH_DOCUMENTS, default 300) of one mix of samples, each copy with its own business
//          identifier, submitted as submitDocument does (prepareDocument, then storeDocument in one transaction
//          each) into a fresh store from createGatewayContext; then bytes of resources, resource_history and
//          search_index with their indexes (SQLite dbstat after a checkpoint; PostgreSQL pg_total_relation_size
//          after VACUUM) ÷ N, and that ÷ the mean JSON.stringify size of the documents' Bundles = the ratio. Run for the mix of forms and
//          for 主治医意見書 alone; then per form on SQLite (BENCH_PER_FORM documents each, default 40). Also the
//          median wall time of one document's store transaction (write ms: translation and validation done
//          before it) and of reading every resource of one document back by id (read ms).
//   cpu    per sample of the mix, the JSON texts one document stores (DocumentReference, Bundle and every resource):
//          compressing all of them (write) and inflating all of them (read) with each codec, in µs, and as a
//          ratio to the floor = JSON.stringify of the Bundle + JSON.parse of its text. 7 interleaved rounds of
//          200 ms windows per variant; medians.
//
//   TZ=Asia/Tokyo node --import tsx bench/storage-size.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { formToFhir } from '../src/engine/forms/translate.js';
import { compressJson, contentJson } from '../src/engine/storage/content-codec.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { Store } from '../src/engine/storage/store.js';
import { fillDocuments, readSample, SIZE_MIX, type SampleName } from '../test/support/document-fill.js';
import { startTestPg, type TestPg } from '../test/support/pg.js';
import { pgSize, sqliteSize, type StoreSize } from '../test/support/store-size.js';
import { fmt, isMain, machineInfo, markdownTable, median, timedWindow, writeResults } from './lib.js';

const NOW = '2026-11-23T10:00:00.000+09:00';

export interface SizeRun {
  store: 'sqlite' | 'postgresql';
  samples: readonly SampleName[];
  documents: number;
  /** mean JSON.stringify bytes of the documents' Bundles */
  bundleBytes: number;
  /** bytes per document, per table (indexes included) */
  perDocument: StoreSize['tables'];
  totalPerDocument: number;
  /** SQLite: database file ÷ N; PostgreSQL: database ÷ N */
  filePerDocument: number;
  ratio: number;
  /** median wall time of one document's store transaction (translation and validation excluded) */
  writeMs: number;
  /** median wall time of reading back every resource of one document by id */
  readMs: number;
}

/** Fills a fresh store of `kind` with `count` documents of `samples` and measures it. */
export async function measureStore(
  kind: SizeRun['store'],
  samples: readonly SampleName[],
  count: number,
  pg?: TestPg,
): Promise<SizeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'kaigo-size-'));
  let store: Store | undefined;
  try {
    const location = kind === 'sqlite' ? join(dir, 'kaigo-gateway.sqlite') : await pg!.newDatabase();
    store = kind === 'sqlite' ? new SqliteStore(location) : await PgStore.connect(location);
    const docs = await fillDocuments(await createGatewayContext(store), samples, count);
    const readMs: number[] = [];
    for (const d of docs) {
      const start = performance.now();
      for (const r of d.resources) if (!(await store.read(r.type, r.id))) throw new Error(`${r.type}/${r.id} lost`);
      readMs.push(performance.now() - start);
    }
    await store.close();
    store = undefined;
    const size = kind === 'sqlite' ? sqliteSize(location) : await pgSize(location);
    const bundleBytes = docs.reduce((n, d) => n + d.bundleBytes, 0) / count;
    const perDocument = Object.fromEntries(
      Object.entries(size.tables).map(([t, b]) => [t, b / count]),
    ) as StoreSize['tables'];
    return {
      store: kind,
      samples,
      documents: count,
      bundleBytes,
      perDocument,
      totalPerDocument: size.total / count,
      filePerDocument: size.file / count,
      ratio: size.total / count / bundleBytes,
      writeMs: median(docs.map((d) => d.storeMs)),
      readMs: median(readMs),
    };
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Codec {
  name: string;
  encode: (json: string) => Uint8Array;
  decode: (stored: Uint8Array) => string;
}

const deflate = (level: number): Codec => ({
  name: `deflate ${level}`,
  encode: (s) => deflateRawSync(s, { level }),
  decode: (b) => inflateRawSync(b).toString('utf8'),
});
const brotli = (quality: number): Codec => ({
  name: `brotli ${quality}`,
  encode: (s) =>
    brotliCompressSync(s, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: quality,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(s),
      },
    }),
  decode: (b) => brotliDecompressSync(b).toString('utf8'),
});
/** The codec the SQLite store writes (content-codec.ts), first; then the alternatives it was chosen from. */
const CODECS: readonly Codec[] = [
  { name: 'store (content-codec)', encode: compressJson, decode: contentJson },
  deflate(3),
  deflate(6),
  deflate(9),
  brotli(1),
  brotli(4),
];

export interface CodecCost {
  sample: SampleName;
  bundleBytes: number;
  /** JSON bytes of everything one document stores */
  documentJsonBytes: number;
  floorMicros: number;
  codecs: Array<{ codec: string; bytes: number; writeMicros: number; readMicros: number; write: number; read: number }>;
}

const ROUNDS = 7;
const WINDOW_MS = 200;

export function measureCodecs(ctx: Awaited<ReturnType<typeof createGatewayContext>>, sample: SampleName): CodecCost {
  const def = ctx.forms.get(sample.split('/')[0]!)!;
  const doc = formToFhir(def, readSample(sample), { now: NOW });
  const texts = [doc.documentReference, doc.bundle, ...doc.resources].map((r) => JSON.stringify(r));
  const bundleText = JSON.stringify(doc.bundle);
  const stored = CODECS.map((c) => texts.map(c.encode));
  const variants: Array<[string, () => unknown]> = [
    ['floor', () => JSON.parse(JSON.stringify(doc.bundle)) as unknown],
    ...CODECS.flatMap((c, i): Array<[string, () => unknown]> => [
      [`${c.name} w`, () => texts.map(c.encode)],
      [`${c.name} r`, () => stored[i]!.map(c.decode)],
    ]),
  ];
  // every codec gives back the very text it was given
  CODECS.forEach((c, i) => stored[i]!.forEach((b, j) => void (c.decode(b) === texts[j] || fail(c.name))));
  for (const [, fn] of variants) timedWindow(fn, 50);
  const rates = new Map<string, number[]>();
  for (let r = 0; r < ROUNDS; r++)
    for (const [k, fn] of r % 2 ? [...variants].reverse() : variants)
      rates.set(k, [...(rates.get(k) ?? []), timedWindow(fn, WINDOW_MS).opsPerSec]);
  const micros = (k: string): number => 1e6 / median(rates.get(k)!);
  const floor = micros('floor');
  return {
    sample,
    bundleBytes: Buffer.byteLength(bundleText),
    documentJsonBytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0),
    floorMicros: floor,
    codecs: CODECS.map((c, i) => ({
      codec: c.name,
      bytes: stored[i]!.reduce((n, b) => n + b.length, 0),
      writeMicros: micros(`${c.name} w`),
      readMicros: micros(`${c.name} r`),
      write: micros(`${c.name} w`) / floor,
      read: micros(`${c.name} r`) / floor,
    })),
  };
}

const fail = (what: string): never => {
  throw new Error(`${what} did not give back the text it compressed`);
};

export interface StorageSizeBench {
  machine: ReturnType<typeof machineInfo>;
  method: string;
  runs: SizeRun[];
  perForm: SizeRun[];
  codecs: CodecCost[];
}

export async function runStorageSizeBench(): Promise<StorageSizeBench> {
  const n = Number(process.env.BENCH_DOCUMENTS ?? 300);
  const perForm = Number(process.env.BENCH_PER_FORM ?? 40);
  const pg = await startTestPg();
  try {
    const runs: SizeRun[] = [];
    for (const samples of [SIZE_MIX, ['shujii-ikensho/full'] as const])
      for (const kind of ['sqlite', 'postgresql'] as const) runs.push(await measureStore(kind, samples, n, pg));
    const forms: SizeRun[] = [];
    for (const sample of SIZE_MIX) forms.push(await measureStore('sqlite', [sample], perForm));
    const ctx = await createGatewayContext(new SqliteStore(':memory:'));
    return {
      machine: machineInfo(),
      method:
        `size: ${n} documents per run (${perForm} per form), one transaction each, fresh store; ` +
        `cpu: ${ROUNDS} interleaved rounds of ${WINDOW_MS} ms windows per variant, medians`,
      runs,
      perForm: forms,
      codecs: SIZE_MIX.map((s) => measureCodecs(ctx, s)),
    };
  } finally {
    pg.stop();
  }
}

const kb = (b: number): string => fmt(b / 1024, 1);

export const sizeTable = (runs: readonly SizeRun[]): string =>
  markdownTable(
    [
      'store',
      'documents',
      'Bundle KB',
      'resources',
      'history',
      'search_index',
      'total KB',
      'file KB',
      'ratio',
      'write ms',
      'read ms',
    ],
    runs.map((r) => [
      r.store,
      `${r.documents} × ${r.samples.length === 1 ? r.samples[0]! : `mix of ${r.samples.length}`}`,
      kb(r.bundleBytes),
      kb(r.perDocument.resources),
      kb(r.perDocument.resource_history),
      kb(r.perDocument.search_index),
      kb(r.totalPerDocument),
      kb(r.filePerDocument),
      fmt(r.ratio, 2),
      fmt(r.writeMs, 2),
      fmt(r.readMs, 2),
    ]),
  );

export const codecTable = (costs: readonly CodecCost[]): string =>
  markdownTable(
    ['codec', 'stored ÷ JSON', 'write µs', 'write ÷ floor', 'read µs', 'read ÷ floor'],
    CODECS.map((c, i) => {
      const all = costs.map((x) => x.codecs[i]!);
      const json = costs.reduce((n, x) => n + x.documentJsonBytes, 0);
      return [
        c.name,
        fmt(all.reduce((n, x) => n + x.bytes, 0) / json, 3),
        fmt(median(all.map((x) => x.writeMicros))),
        fmt(median(all.map((x) => x.write)), 2),
        fmt(median(all.map((x) => x.readMicros))),
        fmt(median(all.map((x) => x.read)), 2),
      ];
    }),
  );

export function storageSizeReport(r: StorageSizeBench): string {
  const floor = median(r.codecs.map((c) => c.floorMicros));
  return [
    '### Bytes per stored document (tables with their indexes) against the Bundle JSON\n',
    sizeTable(r.runs),
    '\n### Per form (SQLite)\n',
    sizeTable(r.perForm),
    `\n### Compression CPU per document, against the JSON floor (median over the ${r.codecs.length} samples; ` +
      `floor median ${fmt(floor)} µs)\n`,
    codecTable(r.codecs),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const r = await runStorageSizeBench();
  console.log(storageSizeReport(r));
  console.log(`\nwrote ${writeResults('storage-size.json', r)}`);
}
