// Fills a store with a generated, realistic population of documents for the scale benchmarks: persons and
// organisations from bench/seed/persons.ts, documents from bench/seed/documents.ts, each the checked clone of a real
// translation (bench/seed/templates.ts), written as storeDocument writes them (bench/seed/write-document.ts: real
// indexResource, one put per resource) in transactions of `batch` documents. Same seed, persons and docs → the
// same documents (only meta.lastUpdated, which the store sets, differs between runs).
//
//   TZ=Asia/Tokyo node --import tsx bench/seed/fill-store.ts --docs 100000 --persons 10000 --seed 42 --store sqlite:DIR
//   TZ=Asia/Tokyo node --import tsx bench/seed/fill-store.ts --docs 10000 --store postgres://user@host:port/db
//
// sqlite:DIR writes DIR/kaigo-gateway.sqlite, the file a gateway started with KAIGO_DATA_DIR=DIR serves. From other
// benches: `const r = await fillStore(store, { docs, persons, seed })`; r.byInsurer and r.personDocuments say
// which 保険者番号 and 被保険者番号 have many documents, to pick realistic queries.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createGatewayContext, type GatewayContext } from '../../src/engine/gateway-context.js';
import { PgStore } from '../../src/engine/storage/pg-store.js';
import { SqliteStore } from '../../src/engine/storage/sqlite-store.js';
import type { Store } from '../../src/engine/storage/store.js';
import { fmt, isMain } from '../lib.js';
import { DocumentGenerator } from './documents.js';
import { generatePopulation, type Insurer, type Population } from './persons.js';
import { TemplateCache } from './templates.js';
import { writeDocument } from './write-document.js';

export interface FillOptions {
  docs: number;
  persons: number;
  seed: number | string;
  /** index of the first document: a store filled with 0…10k grows to 100k with from 10k, docs 90k */
  from?: number;
  /** documents per transaction */
  batch?: number;
  ctx?: GatewayContext;
  /** the population of an earlier fill with the same seed and persons (saves generating it again) */
  population?: Population;
  /** generator and templates of an earlier fill with the same ctx (saves building the templates again) */
  reuse?: { generator: DocumentGenerator; templates: TemplateCache };
  onProgress?: (p: { done: number; total: number; seconds: number }) => void;
}

export interface FillResult {
  population: Population;
  generator: DocumentGenerator;
  templates: TemplateCache;
  /** documents written by this call */
  documents: number;
  seconds: number;
  docsPerSecond: number;
  /** seconds of the real engine spent building and checking templates (included in `seconds`) */
  templateSeconds: number;
  byForm: Record<string, number>;
  /** documents per insurer, most first */
  byInsurer: Array<{ insurer: Insurer; documents: number }>;
  /** documents per person, by Person.index */
  personDocuments: Uint32Array;
  /** the business identifier of the first document of each form */
  identifiers: Record<string, string>;
}

export async function fillStore(store: Store, opts: FillOptions): Promise<FillResult> {
  const t0 = performance.now();
  const ctx = opts.ctx ?? (await createGatewayContext(store));
  const population = opts.population ?? generatePopulation({ persons: opts.persons, seed: opts.seed });
  const generator = opts.reuse?.generator ?? new DocumentGenerator(ctx.forms, population, opts.seed);
  const templates = opts.reuse?.templates ?? new TemplateCache(ctx);
  const realBefore = templates.realMs;
  const from = opts.from ?? 0;
  const batch = opts.batch ?? 1000;
  const byForm: Record<string, number> = {};
  const byInsurer = new Map<Insurer, number>();
  const personDocuments = new Uint32Array(population.persons.length);
  const identifiers: Record<string, string> = {};
  // Documents are written without storeDocument's per-document duplicate check (see write-document.ts), so check
  // once that this range is not stored already: a second fill with the same seed would add new versions.
  if (opts.docs > 0) {
    const first = templates.document(generator.input(from));
    if ((await store.findByIdentifier('DocumentReference', first.identifier.system!, first.identifier.value!)).length)
      throw new Error(`document ${from} (${first.identifier.value}) is already stored: fill an empty store`);
  }
  for (let start = from; start < from + opts.docs; start += batch) {
    const end = Math.min(start + batch, from + opts.docs);
    await store.transaction(async (tx) => {
      for (let i = start; i < end; i++) {
        const input = generator.input(i);
        const doc = templates.document(input);
        await writeDocument(ctx, tx, input.party, input.def, doc);
        byForm[input.def.name] = (byForm[input.def.name] ?? 0) + 1;
        byInsurer.set(input.person.insurer, (byInsurer.get(input.person.insurer) ?? 0) + 1);
        personDocuments[input.person.index]!++;
        identifiers[input.def.name] ??= doc.identifier.value!;
      }
    });
    opts.onProgress?.({ done: end - from, total: opts.docs, seconds: (performance.now() - t0) / 1000 });
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    population,
    generator,
    templates,
    documents: opts.docs,
    seconds,
    docsPerSecond: opts.docs / seconds,
    templateSeconds: (templates.realMs - realBefore) / 1000,
    byForm,
    byInsurer: [...byInsurer]
      .map(([insurer, documents]) => ({ insurer, documents }))
      .sort((a, b) => b.documents - a.documents),
    personDocuments,
    identifiers,
  };
}

/** sqlite:DIR (the gateway's file in DIR) or postgres://… */
export async function openStore(spec: string): Promise<{ store: Store; file?: string }> {
  if (/^postgres(ql)?:\/\//.test(spec)) return { store: await PgStore.connect(spec) };
  const m = /^sqlite:(.+)$/.exec(spec);
  if (!m) throw new Error(`--store must be sqlite:DIR or postgres://…, got ${spec}`);
  const file = join(m[1]!, 'kaigo-gateway.sqlite');
  return { store: new SqliteStore(file), file };
}

/** Bytes of a SQLite database on disk, its write-ahead log included. */
export const sqliteBytes = (file: string): number =>
  statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      docs: { type: 'string', default: '10000' },
      persons: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '42' },
      store: { type: 'string' },
      from: { type: 'string', default: '0' },
      batch: { type: 'string', default: '1000' },
    },
  });
  if (!values.store) throw new Error('--store sqlite:DIR or --store postgres://… is required');
  const { store, file } = await openStore(values.store);
  const docs = Number(values.docs);
  let lastReport = 0;
  const r = await fillStore(store, {
    docs,
    persons: Number(values.persons),
    seed: values.seed,
    from: Number(values.from),
    batch: Number(values.batch),
    onProgress: ({ done, total, seconds }) => {
      if (done < total && seconds - lastReport < 10) return;
      lastReport = seconds;
      console.error(`${fmt(done)} / ${fmt(total)} documents, ${fmt(seconds, 1)} s, ${fmt(done / seconds)} documents/s`);
    },
  });
  await store.close();
  console.log(
    `${fmt(r.documents)} documents (${fmt(r.population.persons.length)} persons, ${r.population.insurers.length} insurers) in ${fmt(r.seconds, 1)} s: ${fmt(r.docsPerSecond)} documents/s; ${r.templates.size} templates, ${fmt(r.templateSeconds, 1)} s of it in the real engine`,
  );
  if (file) {
    const bytes = sqliteBytes(file);
    console.log(
      `${file}: ${fmt(bytes / 2 ** 20, 1)} MiB, ${fmt(bytes / (Number(values.from) + docs))} bytes per document`,
    );
  }
  console.log('insurers with the most documents:');
  for (const { insurer, documents } of r.byInsurer.slice(0, 5))
    console.log(`  ${insurer.insurerNumber} ${insurer.name}: ${fmt(documents)}`);
  const busiest = r.personDocuments.reduce((best, n, i) => (n > r.personDocuments[best]! ? i : best), 0);
  const p = r.population.persons[busiest]!;
  console.log(
    `busiest person: ${p.insuredNumber} (${p.insurer.insurerNumber}), ${r.personDocuments[busiest]} documents`,
  );
}

if (isMain(import.meta.url)) await main();
