// A store with many documents, filled fast, for the search scale guard (test/search-scale.test.ts) and the scale
// benchmark (bench/scale-search.ts). Each document is what the search paths read of a stored care-form document:
// its DocumentReference (the real one of the form, built once per form from its sample, then given this document's
// identifier, person, insurer, author and date — the time it is built, as in the gateway), a document Bundle and a
// QuestionnaireResponse (small stand-ins: search never reads their content), all three indexed by the real
// indexResource and written by the store's own put() with the access tag storeDocument gives them.
// Time is simulated: while the store fills, the clock (Date) runs through four years, document i at its share of
// them, so a store of any size has what a real one has after four years — each document's date and
// meta.lastUpdated at the time it arrived, hence in arrival order — and a period such as "a month" is the same
// fraction of every store. The clock only moves forwards, so no document is written before it was built. Persons grow with the store (about 10 documents each);
// insurers and organisations do not, so a municipality's or a hospital's share grows as the store does — the case
// that must stay flat.
import type { Bundle, DocumentReference, QuestionnaireResponse, Resource } from 'fhir/r4.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoWithOffset } from '../../src/base/clock.js';
import { DOCUMENT_ID_SYSTEM, deterministicUuid } from '../../src/base/ids.js';
import { partyKey, type Party, type PartyKind } from '../../src/base/party.js';
import { PROJECT_ROOT } from '../../src/base/project.js';
import type { FormDefinition } from '../../src/engine/forms/form-definition.js';
import { formToFhir } from '../../src/engine/forms/translate.js';
import type { GatewayContext } from '../../src/engine/gateway-context.js';
import { indexResource } from '../../src/engine/search/search-parameters.js';
import type { AccessTag, Store, WriteRecord } from '../../src/engine/storage/store.js';
import { FORM_MIX } from '../../bench/seed/documents.js';

// Documents per 1,000 of each form: the realistic-store generator's mix (bench/seed/documents.ts).

/** 保険者番号: 131011 (the dev PKI's municipality) is the largest; shares fall off as 1/rank. */
export const INSURERS = [
  '131011',
  '141002',
  '271007',
  '231001',
  '011007',
  '401307',
  '261009',
  '281000',
  '221007',
  '341002',
  '041009',
  '151009',
  '431001',
  '122002',
  '112003',
  '131016',
  '132012',
  '142018',
  '272078',
  '012025',
];
/** Organisations per kind that authors forms (fixed, so each one's documents grow with the store). */
const ORGANISATIONS: Partial<Record<PartyKind, number>> = {
  'medical-institution': 40,
  'care-manager-office': 60,
  'care-provider': 120,
};
/** The dev PKI's hospital (1311234567) is organisation 0 of its kind. */
const orgCode = (kind: PartyKind, n: number): string =>
  kind === 'medical-institution' && n === 0
    ? '1311234567'
    : `${{ 'medical-institution': '13', 'care-manager-office': '17', 'care-provider': '27' }[kind as string] ?? '99'}${String(n).padStart(8, '0')}`;

/** mulberry32: a small seeded PRNG, so the same options always give the same store. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weightedPicker<T>(items: readonly T[], weight: (t: T) => number): (r: number) => T {
  const cumulative: number[] = [];
  let sum = 0;
  for (const it of items) cumulative.push((sum += weight(it)));
  return (r) => {
    const x = r * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return items[lo]!;
  };
}

export interface ScaleOptions {
  /** documents to add */
  documents: number;
  /** number of the first document: a store holding 0…n-1 grows with from = n */
  from?: number;
  seed?: number;
  /** documents per transaction */
  batch?: number;
  /** transactions in flight at once (PostgreSQL writes faster with several; SQLite queues them anyway) */
  concurrency?: number;
  /** the DocumentReference only (what DocumentReference searches and the duplicate check read): 3× faster */
  documentReferencesOnly?: boolean;
  onProgress?: (done: number) => void;
}

/** What a filled store holds, to pick queries that hit it. */
export interface ScaleFacts {
  documents: number;
  municipality: Party;
  hospital: Party;
  /** 被保険者番号 of the person with the most documents in the municipality's scope, and how many */
  busyPerson: { insuredNumber: string; documents: number };
  /** the business identifier (system|value) of the last document written */
  lastIdentifier: { system: string; value: string };
  /** the simulated period documents 0…total-1 arrive in (dates and meta.lastUpdated), epoch ms */
  written: { fromMs: number; toMs: number };
}

const pickInsurer = weightedPicker(INSURERS, (c) => 1 / (INSURERS.indexOf(c) + 1));
const insurerOf = (person: number): string => pickInsurer(prng(person + 1)());
const persons = (documents: number): number => Math.max(50, Math.ceil(documents / 10));
const insuredNumber = (person: number): string => String(1_000_000_000 + person * 7919).slice(-10);

/** Builds each form's real DocumentReference once, from its minimal sample. */
function templates(ctx: GatewayContext): Map<string, { def: FormDefinition; docRef: DocumentReference }> {
  const out = new Map<string, { def: FormDefinition; docRef: DocumentReference }>();
  for (const name of Object.keys(FORM_MIX)) {
    const def = ctx.forms.get(name);
    if (!def) throw new Error(`scale store: no form ${name}`);
    const sample = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'samples', name, 'minimal.json'), 'utf8'));
    const doc = formToFhir(def, sample, { now: '2026-01-01T09:00:00.000+09:00', submitter: 'bench:template' });
    out.set(name, { def, docRef: doc.documentReference });
  }
  const unknown = [...ctx.forms.forms.keys()].filter((n) => !(n in FORM_MIX));
  if (unknown.length) throw new Error(`scale store: FORM_MIX has no share for ${unknown.join(', ')}`);
  return out;
}

/** The three records of document `i`. Deterministic in (seed, i, total persons). */
function documentRecords(
  ctx: GatewayContext,
  tmpl: ReturnType<typeof templates>,
  pickForm: (r: number) => string,
  seed: number,
  i: number,
  personCount: number,
  at: number,
): { records: WriteRecord[]; access: AccessTag; identifier: { system: string; value: string }; at: number } {
  const rnd = prng(seed * 1_000_003 + i);
  const form = pickForm(rnd());
  const { def, docRef: template } = tmpl.get(form)!;
  const person = Math.floor(rnd() * personCount);
  const insurer = insurerOf(person);
  const insured = insuredNumber(person);
  const kind = def.mapping.sharing.author;
  const code =
    kind === 'municipality'
      ? insurer
      : kind === 'user'
        ? insured
        : orgCode(kind, Math.floor(rnd() * (ORGANISATIONS[kind] ?? 1)));
  const author = partyKey({ kind, code });
  // As the gateway does: DocumentReference.date is when the document is built, just before it is written.
  const date = isoWithOffset(new Date(at));
  const identifier = { system: DOCUMENT_ID_SYSTEM, value: `${form}:${code}:SCALE-${i}` };
  const idOf = (alias: string): string => deterministicUuid(identifier.value, alias);
  const patient = `Patient/${deterministicUuid('scale-person', String(person))}`;
  const hasInsured = template.subject?.identifier !== undefined;

  const docRef = structuredClone(template) as DocumentReference & { id: string };
  docRef.id = idOf('documentReference');
  docRef.identifier = [identifier];
  docRef.status = rnd() < 0.05 ? 'superseded' : 'current';
  docRef.subject = {
    reference: patient,
    ...(hasInsured ? { identifier: { ...template.subject!.identifier, value: insured } } : {}),
  };
  docRef.date = date;
  docRef.author = [{ reference: `Organization/${deterministicUuid('scale-org', author)}` }];
  if (docRef.context?.related?.[0]?.identifier) docRef.context.related[0].identifier.value = insurer;
  docRef.content[0]!.attachment.url = `Bundle/${idOf('bundle')}`;
  const bundle: Bundle & { id: string } = {
    resourceType: 'Bundle',
    id: idOf('bundle'),
    identifier,
    type: 'document',
    timestamp: date,
  };
  const qr: QuestionnaireResponse & { id: string } = {
    resourceType: 'QuestionnaireResponse',
    id: idOf('questionnaireResponse'),
    identifier,
    questionnaire: def.questionnaireCanonical,
    status: 'completed',
    subject: { reference: patient },
    authored: date,
  };
  const access: AccessTag = { author, form, insurerNumber: insurer, ...(hasInsured ? { insuredNumber: insured } : {}) };
  const records = ([docRef, bundle, qr] as Array<Resource & { id: string }>).map((resource) => ({
    resource,
    access,
    index: indexResource(ctx.searchParams, resource),
  }));
  return { records, access, identifier, at };
}

/** The four simulated years (2022-12-01 … 2026-11-30, JST) the documents of a store arrive in. */
export const SIMULATED = {
  fromMs: Date.parse('2022-12-01T00:00:00+09:00'),
  toMs: Date.parse('2026-12-01T00:00:00+09:00'),
};

/** Runs `fn` with Date reading a clock that `advance` moves forwards only; the real Date afterwards. */
async function withSimulatedClock<T>(fn: (advance: (ms: number) => void) => Promise<T>): Promise<T> {
  const Real = Date;
  let now = SIMULATED.fromMs;
  class Simulated extends Real {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return now;
    }
  }
  globalThis.Date = Simulated as DateConstructor;
  try {
    return await fn((ms) => void (now = Math.max(now, ms)));
  } finally {
    globalThis.Date = Real;
  }
}

/**
 * Adds documents from..from+documents-1 of the store the options describe. Persons are sized by the total, so grow
 * a store in steps with the same `total` (the largest size it will reach) passed each time.
 */
export async function fillScaleStore(
  ctx: GatewayContext,
  store: Store,
  opts: ScaleOptions & { total?: number },
): Promise<ScaleFacts> {
  const seed = opts.seed ?? 7;
  const from = opts.from ?? 0;
  const total = opts.total ?? from + opts.documents;
  const batch = opts.batch ?? 500;
  const tmpl = templates(ctx);
  const pickForm = weightedPicker(Object.keys(FORM_MIX), (f) => FORM_MIX[f]!);
  const personCount = persons(total);
  const step = (SIMULATED.toMs - SIMULATED.fromMs) / total;
  const timeOf = (i: number): number => Math.floor(SIMULATED.fromMs + i * step);
  let lastIdentifier = { system: DOCUMENT_ID_SYSTEM, value: '' };
  const starts: number[] = [];
  for (let start = from; start < from + opts.documents; start += batch) starts.push(start);
  let done = 0;
  await withSimulatedClock(async (advance) => {
    const worker = async (): Promise<void> => {
      for (let start = starts.shift(); start !== undefined; start = starts.shift()) {
        const end = Math.min(from + opts.documents, start + batch);
        const docs: Array<ReturnType<typeof documentRecords>> = [];
        for (let i = start; i < end; i++)
          docs.push(documentRecords(ctx, tmpl, pickForm, seed, i, personCount, timeOf(i)));
        await store.transaction(async (tx) => {
          for (const d of docs) {
            advance(d.at);
            for (const r of opts.documentReferencesOnly ? d.records.slice(0, 1) : d.records) await tx.put(r);
          }
        });
        if (end === from + opts.documents) lastIdentifier = docs.at(-1)!.identifier;
        opts.onProgress?.((done += end - start));
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));
  });
  // The busiest person of the municipality's insurer, from the generator's own draws (no query needed).
  const counts = new Map<number, number>();
  for (let i = 0; i < from + opts.documents; i++) {
    const rnd = prng(seed * 1_000_003 + i);
    rnd();
    const person = Math.floor(rnd() * personCount);
    if (insurerOf(person) === INSURERS[0]) counts.set(person, (counts.get(person) ?? 0) + 1);
  }
  const [busy, n] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [0, 0];
  return {
    documents: from + opts.documents,
    municipality: { kind: 'municipality', code: INSURERS[0]!, name: 'scale' },
    hospital: { kind: 'medical-institution', code: orgCode('medical-institution', 0), name: 'scale' },
    busyPerson: { insuredNumber: insuredNumber(busy), documents: n },
    lastIdentifier,
    written: { fromMs: SIMULATED.fromMs, toMs: timeOf(from + opts.documents - 1) },
  };
}
