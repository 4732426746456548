// Fills a store with many distinct documents made from the samples in test/samples: each copy gets its own
// business identifier (the form's `keys.documentId` path, suffixed with the copy's number), so every copy is a new
// stored document rather than an idempotent retry. Used by the storage-size guard test and bench/storage-size.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Party } from '../../src/base/party.js';
import { getPath, setPath, type JsonObject } from '../../src/base/json-paths.js';
import { PROJECT_ROOT } from '../../src/base/project.js';
import { readKeys } from '../../src/engine/forms/assemble-document.js';
import type { GatewayContext } from '../../src/engine/gateway-context.js';
import { prepareDocument, storeDocument } from '../../src/services/documents/submit-document.js';

/** `<form>/<sample>` names, e.g. `shujii-ikensho/full`. */
export type SampleName = `${string}/${string}`;

/**
 * A mix for measuring storage: the largest sample of forms from every kind of author, the heaviest (主治医意見書,
 * 認定調査票) among them.
 */
export const SIZE_MIX: readonly SampleName[] = [
  'shujii-ikensho/full',
  'nintei-chosahyo/full',
  'hihokensha-sho/full',
  'kyotaku-careplan-1/full',
  'kyotaku-careplan-2/full',
  'kyotaku-service-meisaisho/full',
  'shisetsu-careplan-2/full',
  'life-feedback/full',
];

export const readSample = (name: SampleName): JsonObject =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'samples', `${name}.json`), 'utf8')) as JsonObject;

export interface FilledDocument {
  sample: SampleName;
  /** JSON.stringify of the document Bundle as it was written */
  bundleBytes: number;
  /** every resource the document stored */
  resources: Array<{ type: string; id: string }>;
  /** wall time of the store transaction alone (the document was translated and validated before it) */
  storeMs: number;
}

/**
 * Submits `count` documents, the samples taken in turn: translated and validated first, then stored in one
 * transaction per document, as POST /forms does.
 */
export async function fillDocuments(
  ctx: GatewayContext,
  samples: readonly SampleName[],
  count: number,
): Promise<FilledDocument[]> {
  const loaded = samples.map((name) => ({ name, payload: readSample(name), def: ctx.forms.get(name.split('/')[0]!)! }));
  const out: FilledDocument[] = [];
  for (let i = 0; i < count; i++) {
    const { name, payload, def } = loaded[i % loaded.length]!;
    const copy = structuredClone(payload);
    const idPath = def.mapping.keys.documentId!;
    setPath(copy, idPath, `${String(getPath(copy, idPath) ?? def.name)}-${i}`);
    const party: Party = {
      kind: def.mapping.sharing.author,
      code: readKeys(def, copy).issuerCode ?? 'fill',
      name: 'fill',
    };
    const doc = prepareDocument(ctx, party, def, copy);
    const start = performance.now();
    const result = await ctx.store.transaction((tx) => storeDocument(ctx, tx, party, def, doc));
    const storeMs = performance.now() - start;
    if (!result.created) throw new Error(`${name} copy ${i} was not a new document`);
    const resources = [doc.documentReference, doc.bundle, ...doc.resources].map((r) => ({
      type: r.resourceType,
      id: r.id!,
    }));
    out.push({ sample: name, bundleBytes: Buffer.byteLength(JSON.stringify(doc.bundle)), resources, storeMs });
  }
  return out;
}
