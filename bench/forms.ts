// Per-form translate+validate throughput against the JSON floor (JSON.parse+stringify of the same output
// Bundle), in one process and one run. Each form's largest sample is used.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { validateDocument } from '../src/services/documents/submit-document.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { formToFhir, questionnaireResponseToForm } from '../src/engine/forms/translate.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { fmt, isMain, machineInfo, markdownTable, median, timedWindow, writeResults } from './lib.js';

const NOW = '2026-11-23T10:00:00.000+09:00';
const WINDOW_MS = 300;
const ROUNDS = 3;

export interface FormBench {
  form: string;
  sample: string;
  bundleBytes: number;
  entries: number;
  translateValidatePerSec: number;
  reversePerSec: number;
  floorPerSec: number;
  costInFloors: number;
}

export async function runFormsBench(): Promise<{
  machine: ReturnType<typeof machineInfo>;
  method: string;
  forms: FormBench[];
}> {
  const ctx = await createGatewayContext(new SqliteStore(':memory:'));
  const out: FormBench[] = [];
  for (const def of [...ctx.forms.forms.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = join(PROJECT_ROOT, 'test', 'samples', def.name);
    const largest = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ f, text: readFileSync(join(dir, f), 'utf8') }))
      .sort((a, b) => b.text.length - a.text.length)[0]!;
    const payload = JSON.parse(largest.text) as unknown;
    const doc = formToFhir(def, payload, { now: NOW });
    const text = JSON.stringify(doc.bundle);
    const variants = {
      tv: () => validateDocument(ctx, formToFhir(def, payload, { now: NOW })),
      reverse: () => questionnaireResponseToForm(def, doc.questionnaireResponse),
      floor: () => JSON.stringify(JSON.parse(text)),
    };
    for (const fn of Object.values(variants)) timedWindow(fn, 100); // warm-up
    const rates: Record<keyof typeof variants, number[]> = { tv: [], reverse: [], floor: [] };
    for (let r = 0; r < ROUNDS; r++)
      for (const [k, fn] of Object.entries(variants))
        rates[k as keyof typeof variants].push(timedWindow(fn, WINDOW_MS).opsPerSec);
    const tv = median(rates.tv);
    const floor = median(rates.floor);
    out.push({
      form: def.name,
      sample: largest.f,
      bundleBytes: Buffer.byteLength(text),
      entries: doc.bundle.entry?.length ?? 0,
      translateValidatePerSec: tv,
      reversePerSec: median(rates.reverse),
      floorPerSec: floor,
      costInFloors: floor / tv,
    });
  }
  return {
    machine: machineInfo(),
    method: `per form: ${ROUNDS} rounds of ${WINDOW_MS} ms windows per variant after 100 ms warm-up; medians`,
    forms: out,
  };
}

export const formsTable = (r: Awaited<ReturnType<typeof runFormsBench>>): string =>
  markdownTable(
    ['form', 'sample', 'Bundle', 'entries', 'translate+validate /s', 'reverse /s', 'JSON floor /s', 'cost in floors'],
    r.forms.map((f) => [
      f.form,
      f.sample,
      `${fmt(f.bundleBytes / 1024, 1)} KB`,
      String(f.entries),
      fmt(f.translateValidatePerSec),
      fmt(f.reversePerSec),
      fmt(f.floorPerSec),
      fmt(f.costInFloors, 1),
    ]),
  );

if (isMain(import.meta.url)) {
  const r = await runFormsBench();
  console.log(formsTable(r));
  console.log(`\nwrote ${writeResults('forms.json', r)}`);
}
