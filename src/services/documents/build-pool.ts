// A pool of worker threads that build form documents, so translate + validate (the CPU-heavy part of a submit)
// runs on the other cores while the main thread serves TLS, HTTP and the store. Requests go to the worker with the
// fewest in flight; a worker that dies is replaced and its requests fail with a 500 (nothing was stored yet: the
// store write happens on the main thread after the build), never a hang.
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OperationOutcomeError } from '../../base/outcome.js';
import type { FormDocument } from '../../engine/forms/assemble-document.js';
import type { DocumentBuilder } from '../../engine/gateway-context.js';
import type { BuildReply, BuildRequest } from './build-messages.js';
import { handOverIndex } from './document-index.js';

export interface BuildPool extends DocumentBuilder {
  readonly size: number;
  close(): Promise<void>;
}

interface Pending {
  resolve(doc: FormDocument): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** The worker's own file beside this one: .ts when run from the sources (through tsx), .js when built. */
const workerUrl = new URL(`./build-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Node 20 starts worker threads without the parent's module hooks (and ignores --import there), so from the .ts
 * sources the worker is a tiny script that registers tsx first, then imports the worker module.
 */
function newWorker(root: string): Worker {
  if (!workerUrl.pathname.endsWith('.ts')) return new Worker(workerUrl, { workerData: { root } });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(boot, { eval: true, workerData: { root } });
}

export const defaultPoolSize = (): number => Math.max(1, availableParallelism());

export async function startBuildPool(root: string, size = defaultPoolSize()): Promise<BuildPool> {
  let nextId = 0;
  let closing = false;
  const slots: Slot[] = [];

  const spawn = (): Promise<Slot> =>
    new Promise((resolve, reject) => {
      const worker = newWorker(root);
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (m: BuildReply | { ready: true }) => {
        if ('ready' in m) return resolve(slot);
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        if ('doc' in m) {
          handOverIndex(m.doc, m.index);
          p.resolve(m.doc);
        } else if ('refused' in m) p.reject(new OperationOutcomeError(m.refused.status, m.refused.issues));
        else p.reject(new Error(`document build failed in a worker: ${m.failed}`));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        for (const p of slot.pending.values()) p.reject(new Error(`document worker exited (code ${code})`));
        slot.pending.clear();
        const i = slots.indexOf(slot);
        if (i >= 0) slots.splice(i, 1);
        if (!closing) void spawn().then((s) => slots.push(s), reject);
      });
    });

  slots.push(...(await Promise.all(Array.from({ length: size }, spawn))));

  return {
    get size() {
      return slots.length;
    },
    build(form, submitter, payload, now) {
      if (slots.length === 0) return Promise.reject(new Error('no document worker is running'));
      const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      const req: BuildRequest = { id, form, submitter, payload, now };
      return new Promise<FormDocument>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage(req);
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
