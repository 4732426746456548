// R4 base validation of the 主治医意見書 document Bundle (test/golden/shujii-ikensho/full.bundle.json): the
// compiled validator (src/engine/validation/base-validator.ts) against Medplum 4.5.2's walker (kept in
// test/support/medplum-validator.ts as the cross-check), both as a ratio to the JSON floor of the same Bundle
// (JSON.parse + JSON.stringify of its text), measured in the same run.
//
// Method: after a warm-up, BENCH_ROUNDS rounds (default 7); in each round every variant runs for one window of
// BENCH_WINDOW_MS (default 500), the order alternating between rounds. Reported: median ops/s, ms/op, and the cost
// in JSON floors (floor ops/s ÷ variant ops/s) as the median of the per-round ratios (robust to a busy machine).
//
//   TZ=Asia/Tokyo node --import tsx bench/validator.ts        (≈ 15 s)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/base/project.js';
import { loadBaseDefinitions, validateBase } from '../src/engine/validation/base-validator.js';
import * as medplum from '../test/support/medplum-validator.js';
import { fmt, markdownTable, median, timedWindow } from './lib.js';

const FILE = 'test/golden/shujii-ikensho/full.bundle.json';
const text = readFileSync(join(PROJECT_ROOT, FILE), 'utf8');
const bundle: unknown = JSON.parse(text);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 500);

let t = performance.now();
const loaded = loadBaseDefinitions();
const loadNew = performance.now() - t;
t = performance.now();
medplum.loadBaseDefinitions();
const loadOld = performance.now() - t;

const errorsOf = (issues: readonly { severity: string }[]): number =>
  issues.filter((i) => i.severity === 'error').length;
console.log(
  `${FILE}: ${text.length} bytes; errors: new ${errorsOf(validateBase(bundle))}, Medplum ${errorsOf(medplum.validateBase(bundle))}`,
);
console.log(
  `load: new ${fmt(loadNew)} ms (${loaded.source === 'cache' ? 'from the cache' : 'built, cache written'}), Medplum ${fmt(loadOld)} ms\n`,
);

const variants: Record<string, () => unknown> = {
  'JSON floor (parse + stringify)': () => JSON.stringify(JSON.parse(text)),
  'new: validateBase (compiled)': () => validateBase(bundle),
  'old: Medplum validateResource': () => medplum.validateBase(bundle),
};
const names = Object.keys(variants);
for (const f of Object.values(variants)) timedWindow(f, 400);
const rates: Record<string, number[]> = {};
const ratios: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...names].reverse() : names;
  const round: Record<string, number> = {};
  for (const n of order) round[n] = timedWindow(variants[n]!, windowMs).opsPerSec;
  for (const n of names) {
    (rates[n] ??= []).push(round[n]!);
    (ratios[n] ??= []).push(round[names[0]!]! / round[n]!);
  }
}
console.log(
  markdownTable(
    ['variant', 'ops/s', 'ms/op', 'JSON floors'],
    names.map((n) => [n, fmt(median(rates[n]!)), fmt(1000 / median(rates[n]!), 3), fmt(median(ratios[n]!), 2)]),
  ),
);
const speedup = median(ratios[names[2]!]!) / median(ratios[names[1]!]!);
console.log(`\nnew is ${fmt(speedup, 1)}× faster than Medplum on this Bundle`);
