// Where the time of translate+validate goes: a 4 s CPU profile (node:inspector) of formToFhir + validateDocument
// on the full 主治医意見書 sample, plus a per-call breakdown of validateDocument's three validator calls.
// Not part of npm run bench; used for the reading in docs/BENCHMARKS.md.
//
//   TZ=Asia/Tokyo node --import tsx bench/profile-translate.ts      (≈ 15 s)
import { Session } from 'node:inspector/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { validateDocument } from '../src/services/documents/submit-document.js';
import { assembleDocument } from '../src/engine/forms/assemble-document.js';
import { validatePayload } from '../src/engine/forms/payload-validator.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { formToFhir } from '../src/engine/forms/translate.js';
import type { Store } from '../src/engine/storage/store.js';
import { validateBase } from '../src/engine/validation/base-validator.js';
import { fmt, markdownTable, median, timedWindow } from './lib.js';

const NOW = '2026-11-23T10:00:00.000+09:00';
const BUNDLE_PROFILE = 'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-document-bundle';
const DOCREF_PROFILE = 'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-documentreference';
const QR_PROFILE = 'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-questionnaireresponse';

const ctx = await createGatewayContext(undefined as unknown as Store);
const def = ctx.forms.get('shujii-ikensho')!;
const payload: unknown = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/samples/shujii-ikensho/full.json'), 'utf8'));
const doc = formToFhir(def, payload, { now: NOW });
const once = (): void => validateDocument(ctx, formToFhir(def, payload, { now: NOW }));

// 1. Breakdown: each piece alone, 3 × 0.7 s windows after 0.3 s warm-up, median.
const pieces: Record<string, () => unknown> = {
  'validatePayload (ajv, payload schema)': () => validatePayload(def, payload),
  'assembleDocument (mapping)': () => assembleDocument(def, payload, { now: NOW }),
  'validate(bundle, document profile)': () => ctx.validator.validate(doc.bundle, { profile: BUNDLE_PROFILE }),
  'validate(documentReference)': () => ctx.validator.validate(doc.documentReference, { profile: DOCREF_PROFILE }),
  'validateAnswers(qr) (QR profile + Questionnaire rules; what validateDocument runs)': () =>
    ctx.validator.validateAnswers(doc.questionnaireResponse, { profile: QR_PROFILE }),
  'validateQuestionnaireResponse(qr) (the same + R4 base; not run by validateDocument)': () =>
    ctx.validator.validateQuestionnaireResponse(doc.questionnaireResponse),
  'Medplum validateBase(qr) alone': () => validateBase(doc.questionnaireResponse),
  'Medplum validateBase(bundle) alone (QR entry included)': () => validateBase(doc.bundle),
};
for (const f of Object.values(pieces)) timedWindow(f, 300);
const rates: Record<string, number[]> = {};
for (let i = 0; i < 3; i++)
  for (const [k, f] of Object.entries(pieces)) (rates[k] ??= []).push(timedWindow(f, 700).opsPerSec);
console.log(
  markdownTable(
    ['piece', 'ops/s', 'ms/op'],
    Object.entries(rates).map(([k, xs]) => [k, fmt(median(xs)), fmt(1000 / median(xs), 3)]),
  ),
);

// 2. CPU profile of the whole translate+validate.
for (let i = 0; i < 30; i++) once();
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const end = performance.now() + 4000;
let n = 0;
while (performance.now() < end) {
  once();
  n++;
}
const { profile } = await session.post('Profiler.stop');
session.disconnect();

type Node = (typeof profile.nodes)[number];
const byId = new Map<number, Node>(profile.nodes.map((nd) => [nd.id, nd]));
const parent = new Map<number, number>();
for (const nd of profile.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
const hits = new Map<number, number>();
for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = [...hits.values()].reduce((a, b) => a + b, 0);
const where = (url: string): string =>
  url.includes('node_modules/')
    ? url.replace(/.*node_modules\/((?:@[^/]+\/)?[^/]+).*/, '$1')
    : url.replace(/.*\/work\/main\//, '') || '(native/other)';
const selfByPackage = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, c] of hits) {
  const nd = byId.get(id)!;
  const key = nd.callFrame.url ? where(nd.callFrame.url) : nd.callFrame.functionName;
  selfByPackage.set(key, (selfByPackage.get(key) ?? 0) + c);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = byId.get(cur)!.callFrame.functionName;
    if (!seen.has(name)) {
      inclusive.set(name, (inclusive.get(name) ?? 0) + c);
      seen.add(name);
    }
  }
}
const pct = (c: number | undefined): string => `${((100 * (c ?? 0)) / total).toFixed(1)} %`;
console.log(`\n${n} translate+validate in 4 s under the profiler (${fmt(n / 4)}/s), ${total} samples\n`);
console.log(
  markdownTable(
    ['self time by package/file', 'share'],
    [...selfByPackage]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([k, c]) => [k, pct(c)]),
  ),
);
console.log('');
const names = [
  'formToFhir',
  'assembleDocument',
  'validateDocument',
  'validateBase',
  'constraintsCheck',
  'validateAgainstQuestionnaire',
  'canonicalJson',
];
console.log(
  markdownTable(
    ['function (inclusive)', 'share'],
    names.map((k) => [k, pct(inclusive.get(k))]),
  ),
);
