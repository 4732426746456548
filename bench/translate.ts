// 主治医意見書 (shujii-ikensho) translation throughput, in one process, against the JSON floor.
//
//   translate+validate  formToFhir(full sample) + validateDocument(result): what POST /forms/… does before storing
//   translate only      formToFhir alone (payload-schema check + mapping + document assembly)
//   validate only       validateDocument on a document built once (Medplum base + profiles + Questionnaire rules)
//   reverse             questionnaireResponseToForm(QR of that document): what GET /forms/…/{id} does after reading
//   JSON floor          JSON.stringify(JSON.parse(text of the output document Bundle))
//
// Method (as in §4 of the development machine's toolchain notes): 1 s warm-up per variant, then 5 rounds; in each round every
// variant runs for one 1 s window, the order alternating forward/backward between rounds so no variant always
// follows the same neighbour. Reported: median ops/s over the 5 windows, and the cost of one op in JSON floors
// (floor ops/s ÷ variant ops/s), both from the medians and as the median of the per-round ratios.
//
//   TZ=Asia/Tokyo node --import tsx bench/translate.ts        (≈ 35 s; BENCH_WINDOWS / BENCH_WINDOW_MS override)
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { validateDocument } from '../src/services/documents/submit-document.js';
import { canonicalJson } from '../src/base/canonical-json.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { formToFhir, questionnaireResponseToForm } from '../src/engine/forms/translate.js';
import type { Store } from '../src/engine/storage/store.js';
import {
  coresBusy,
  cpuSnapshot,
  fmt,
  isMain,
  machineInfo,
  markdownTable,
  median,
  timedWindow,
  writeResults,
  type MachineInfo,
} from './lib.js';

const NOW = '2026-11-23T10:00:00.000+09:00';
const FORM = 'shujii-ikensho';

export interface VariantResult {
  name: string;
  description: string;
  windowsOpsPerSec: number[];
  /** Cores busy machine-wide during each window (this process is ≈1; more means other work shared the box). */
  windowsCoresBusy: number[];
  medianOpsPerSec: number;
  medianMsPerOp: number;
  /** How many JSON floors (parse+stringify of the output Bundle) one op costs: floor ops/s ÷ variant ops/s. */
  floorsPerOp: number;
  /** The same, per round (windows of one round are adjacent in time), median: robust to drift of the machine. */
  floorsPerOpMedianPerRound: number;
}

export interface TranslateResults {
  bench: 'translate';
  machine: MachineInfo;
  method: { warmupMsPerVariant: number; windows: number; windowMs: number; order: string };
  sample: {
    file: string;
    payloadBytes: number;
    bundleBytes: number;
    bundleEntries: number;
    qrBytes: number;
    roundTripIdentical: boolean;
  };
  setupMs: { createGatewayContext: number; firstTranslateValidate: number };
  variants: VariantResult[];
  loadAverageAtEnd: number[];
}

export async function runTranslateBench(
  opts: { windows?: number; windowMs?: number; warmupMs?: number } = {},
): Promise<TranslateResults> {
  const windows = opts.windows ?? Number(process.env.BENCH_WINDOWS ?? 5);
  const windowMs = opts.windowMs ?? Number(process.env.BENCH_WINDOW_MS ?? 1000);
  const warmupMs = opts.warmupMs ?? windowMs;
  const machine = machineInfo();

  const sampleFile = join(PROJECT_ROOT, 'test', 'samples', FORM, 'full.json');
  const payloadText = readFileSync(sampleFile, 'utf8');
  const payload: unknown = JSON.parse(payloadText);

  // validateDocument only touches ctx.validator; no store is needed for this bench.
  let t = performance.now();
  const ctx = await createGatewayContext(undefined as unknown as Store);
  const ctxMs = performance.now() - t;
  const def = ctx.forms.get(FORM);
  if (!def) throw new Error(`form ${FORM} is not in the registry`);

  t = performance.now();
  const doc = formToFhir(def, payload, { now: NOW });
  validateDocument(ctx, doc); // throws if the sample does not validate: then the bench would measure errors
  const firstMs = performance.now() - t;

  const bundleText = JSON.stringify(doc.bundle);
  const back = questionnaireResponseToForm(def, doc.questionnaireResponse);
  const roundTripIdentical = canonicalJson(back) === canonicalJson(payload);

  let sink = 0; // keep results observable so nothing is optimised away
  const variants: Array<{ name: string; description: string; fn: () => void }> = [
    {
      name: 'translate+validate',
      description: 'formToFhir + validateDocument (POST /forms work before the store)',
      fn: () => {
        const d = formToFhir(def, payload, { now: NOW });
        validateDocument(ctx, d);
        sink += d.resources.length;
      },
    },
    {
      name: 'JSON floor',
      description: `JSON.stringify(JSON.parse(bundle text, ${bundleText.length} chars))`,
      fn: () => {
        sink += JSON.stringify(JSON.parse(bundleText)).length;
      },
    },
    {
      name: 'translate only',
      description: 'formToFhir (payload schema + mapping + assembly)',
      fn: () => {
        sink += formToFhir(def, payload, { now: NOW }).resources.length;
      },
    },
    {
      name: 'validate only',
      description: 'validateDocument on a prebuilt document',
      fn: () => {
        validateDocument(ctx, doc);
        sink++;
      },
    },
    {
      name: 'reverse',
      description: 'questionnaireResponseToForm (QR → form payload)',
      fn: () => {
        sink += Object.keys(questionnaireResponseToForm(def, doc.questionnaireResponse)).length;
      },
    },
  ];

  for (const v of variants) timedWindow(v.fn, warmupMs);
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const busy = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < windows; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const c0 = cpuSnapshot();
      samples.get(v.name)!.push(timedWindow(v.fn, windowMs).opsPerSec);
      busy.get(v.name)!.push(coresBusy(c0, cpuSnapshot()));
    }
  }
  if (sink === 0) console.error('(sink is zero)');

  const floor = median(samples.get('JSON floor')!);
  const results: VariantResult[] = variants.map((v) => {
    const w = samples.get(v.name)!;
    const m = median(w);
    return {
      name: v.name,
      description: v.description,
      windowsOpsPerSec: w.map((x) => Math.round(x * 10) / 10),
      windowsCoresBusy: busy.get(v.name)!,
      medianOpsPerSec: Math.round(m * 10) / 10,
      medianMsPerOp: Math.round((1000 / m) * 1000) / 1000,
      floorsPerOp: Math.round((floor / m) * 100) / 100,
      floorsPerOpMedianPerRound: Math.round(median(w.map((x, i) => samples.get('JSON floor')![i]! / x)) * 100) / 100,
    };
  });

  return {
    bench: 'translate',
    machine,
    method: { warmupMsPerVariant: warmupMs, windows, windowMs, order: 'round-robin, direction alternating per round' },
    sample: {
      file: `test/samples/${FORM}/full.json`,
      payloadBytes: Buffer.byteLength(payloadText),
      bundleBytes: Buffer.byteLength(bundleText),
      bundleEntries: doc.bundle.entry?.length ?? 0,
      qrBytes: Buffer.byteLength(JSON.stringify(doc.questionnaireResponse)),
      roundTripIdentical,
    },
    setupMs: { createGatewayContext: Math.round(ctxMs), firstTranslateValidate: Math.round(firstMs * 10) / 10 },
    variants: results,
    loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function translateTable(r: TranslateResults): string {
  const rows = r.variants.map((v) => [
    v.name,
    fmt(v.medianOpsPerSec),
    fmt(v.medianMsPerOp, 3),
    v.name === 'JSON floor' ? '1' : `${fmt(v.floorsPerOp, 1)} (${fmt(v.floorsPerOpMedianPerRound, 1)})`,
    v.windowsOpsPerSec.map((x) => fmt(x)).join(', '),
    fmt(median(v.windowsCoresBusy), 2),
  ]);
  return [
    `主治医意見書 full sample: payload ${fmt(r.sample.payloadBytes)} B → document Bundle ${fmt(r.sample.bundleBytes)} B, ${r.sample.bundleEntries} entries; round trip identical: ${r.sample.roundTripIdentical}`,
    `setup: createGatewayContext ${fmt(r.setupMs.createGatewayContext)} ms, first translate+validate ${fmt(r.setupMs.firstTranslateValidate, 1)} ms`,
    '',
    markdownTable(
      [
        'variant',
        'median ops/s',
        'ms/op',
        'cost in JSON floors (median per round)',
        `${r.method.windows} windows (ops/s)`,
        'cores busy (machine)',
      ],
      rows,
    ),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const r = await runTranslateBench();
  const file = writeResults('translate.json', r);
  console.log(translateTable(r));
  console.log(`\nwrote ${file}`);
}
