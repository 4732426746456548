// Bench only, never the product: document builders that translate every document but validate only one in
// `every` (0: none), to show what an import does when validation costs a fraction of today's (the R4 base
// validator is being replaced by a much faster one). `every` = 10 puts today's validation CPU at 1/10.
//   fractionalValidator(validator, every)   wraps ctx.validator for builds on the main thread
//   startFractionalPool(size, every)        worker threads like services/documents/build-pool.ts (search rows
//                                           computed there too), same split
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { PROJECT_ROOT } from '../src/base/project.js';
import type { FormDocument } from '../src/engine/forms/assemble-document.js';
import type { DocumentBuilder } from '../src/engine/gateway-context.js';
import type { FhirValidator } from '../src/engine/validation/fhir-validator.js';
import type { IndexRow } from '../src/engine/storage/store.js';
import { computeDocumentIndex, handOverIndex } from '../src/services/documents/document-index.js';

/** Validates the first of every `every` documents (a document is one validateAnswers call, its last step). */
export function fractionalValidator(real: FhirValidator, every: number): FhirValidator {
  let n = 0;
  const on = (): boolean => every > 0 && n % every === 0;
  return {
    ...real,
    validate: (r, o) => (on() ? real.validate(r, o) : []),
    validateQuestionnaireResponse: (r, o) => (on() ? real.validateQuestionnaireResponse(r, o) : []),
    validateAnswers: (r, o) => {
      const out = on() ? real.validateAnswers(r, o) : [];
      n++;
      return out;
    },
  };
}

interface Request {
  id: number;
  form: string;
  submitter: string;
  payload: unknown;
  now: string;
}
type Reply = { id: number; doc: FormDocument; index: IndexRow[][] } | { id: number; error: string };

export interface FractionalPool extends DocumentBuilder {
  close(): Promise<void>;
}

const self = new URL(import.meta.url);

export async function startFractionalPool(size: number, every: number): Promise<FractionalPool> {
  const boot = extname(fileURLToPath(self)).endsWith('ts')
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(self.href)}); })`
    : `import(${JSON.stringify(self.href)})`;
  const workers = await Promise.all(
    Array.from(
      { length: size },
      () =>
        new Promise<{ w: Worker; pending: Map<number, (r: Reply) => void> }>((resolve, reject) => {
          const w = new Worker(boot, { eval: true, workerData: { fractionalEvery: every } });
          const pending = new Map<number, (r: Reply) => void>();
          w.on('message', (m: Reply | 'ready') => {
            if (m === 'ready') return resolve({ w, pending });
            pending.get(m.id)?.(m);
            pending.delete(m.id);
          });
          w.once('error', reject);
        }),
    ),
  );
  let nextId = 0;
  return {
    build(form, submitter, payload, now) {
      const slot = workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise<FormDocument>((resolve, reject) => {
        slot.pending.set(id, (r) => {
          if (!('doc' in r)) return reject(new Error(r.error));
          handOverIndex(r.doc, r.index);
          resolve(r.doc);
        });
        slot.w.postMessage({ id, form, submitter, payload, now } satisfies Request);
      });
    },
    close: async () => void (await Promise.all(workers.map((s) => s.w.terminate()))),
  };
}

if (!isMainThread && (workerData as { fractionalEvery?: number } | null)?.fractionalEvery !== undefined) {
  const { join } = await import('node:path');
  const { loadFormRegistry } = await import('../src/engine/forms/registry.js');
  const { createFhirValidator } = await import('../src/engine/validation/fhir-validator.js');
  const { buildDocument } = await import('../src/services/documents/submit-document.js');
  const { loadSearchParameters } = await import('../src/engine/search/search-parameters.js');
  const forms = loadFormRegistry(PROJECT_ROOT);
  const searchParams = loadSearchParameters(join(PROJECT_ROOT, 'profiles'));
  const real = await createFhirValidator({ profilesDir: join(PROJECT_ROOT, 'profiles') });
  const validator = fractionalValidator(real, (workerData as { fractionalEvery: number }).fractionalEvery);
  const port = parentPort!;
  port.on('message', (q: Request) => {
    try {
      const doc = buildDocument({ validator }, q.submitter, forms.get(q.form)!, q.payload, q.now);
      port.postMessage({ id: q.id, doc, index: computeDocumentIndex(searchParams, doc) });
    } catch (e) {
      port.postMessage({ id: q.id, error: (e as Error).stack ?? String(e) });
    }
  });
  port.postMessage('ready');
}
