// Bench only: fills a store with `count` 第6表 documents quickly, each a clone of one real document (translated,
// validated and written by storeDocument once) under its own resource ids, business identifier and 被保険者番号:
// the same rows storeDocument writes (content, access tag, search rows, slot row), through tx.put, in
// transactions of 1,000 documents. All of one insurer and office, like the import measured after it.
import { createHash } from 'node:crypto';
import type { GatewayContext } from '../src/engine/gateway-context.js';
import type { StoreTx, WriteRecord } from '../src/engine/storage/store.js';
import { careplanLayouts } from '../src/services/careplan-csv/service.js';
import { readRows, rowsToDocuments } from '../src/services/careplan-csv/codec.js';
import { parseCsv } from '../src/services/careplan-csv/sjis-csv.js';
import { prepareDocument, storeDocument } from '../src/services/documents/submit-document.js';
import type { Party } from '../src/base/party.js';

const TEMPLATE_INSURED = '0009999999';

/** The records storeDocument writes for one document, captured instead of stored. */
async function templateRecords(ctx: GatewayContext, party: Party, csv: Buffer): Promise<WriteRecord[]> {
  const layout = careplanLayouts().get('UPPLAN')!;
  const rows = readRows(layout, parseCsv(csv).records, () => '', []);
  const [d] = rowsToDocuments(layout, rows, { senderOfficeNumber: party.code }, () => '', []);
  const def = ctx.forms.get(layout.form!)!;
  const doc = prepareDocument(ctx, party, def, d!.payload);
  const puts: WriteRecord[] = [];
  const capture: StoreTx = {
    read: async () => undefined,
    findByIdentifier: async () => [],
    findByIndexRow: async () => [],
    lock: async () => undefined,
    put: async (rec) => {
      puts.push(rec);
      return { resource: { ...rec.resource, meta: { versionId: '1', lastUpdated: '' } }, access: rec.access };
    },
  };
  await storeDocument(ctx, capture, party, def, doc);
  return puts;
}

export async function fillWithClones(
  ctx: GatewayContext,
  party: Party,
  count: number,
  /** a one-person UPPLAN file whose 被保険者番号 is TEMPLATE_INSURED */
  templateCsv: (insured: string) => Buffer,
  onProgress?: (done: number) => void,
): Promise<void> {
  const template = await templateRecords(ctx, party, templateCsv(TEMPLATE_INSURED));
  const texts = template.map((r) => JSON.stringify(r));
  const hash = /sha256:([0-9a-f]{64})/.exec(texts.join(''))![1]!;
  const ids = template.map((r) => r.resource.id);
  const tokens = [...ids, hash, TEMPLATE_INSURED];
  const pattern = new RegExp(tokens.map((t) => t.replace(/[-]/g, '\\-')).join('|'), 'g');
  const hex = (k: number, what: string): string => createHash('sha256').update(`fill:${k}:${what}`).digest('hex');
  const uuid = (h: string): string =>
    `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  for (let start = 0; start < count; start += 1000) {
    await ctx.store.transaction(async (tx) => {
      for (let k = start; k < Math.min(count, start + 1000); k++) {
        const to = new Map<string, string>(ids.map((id, i) => [id, uuid(hex(k, String(i)))]));
        to.set(hash, hex(k, 'identifier'));
        to.set(TEMPLATE_INSURED, String(2_000_000_000 + k));
        for (const t of texts) await tx.put(JSON.parse(t.replace(pattern, (m) => to.get(m)!)) as WriteRecord);
      }
    });
    onProgress?.(Math.min(count, start + 1000));
  }
}
