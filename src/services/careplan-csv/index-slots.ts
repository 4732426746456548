// Gives the current documents of the care-plan forms the slot row the import finds them by
// (services/documents/document-key.ts) when they lack it: documents stored by a gateway from before that row, which
// an import would otherwise neither supersede nor delete. Each such DocumentReference is stored again, unchanged
// but for its new version, with the row; one that has it is left alone, so running it again changes nothing. Run
// once after upgrading (kaigo-gateway careplan-csv index-slots), before importing.
import type { DocumentReference } from 'fhir/r4.js';
import { readKeys } from '../../engine/forms/assemble-document.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { indexResource } from '../../engine/search/search-parameters.js';
import { documentKeyRow } from '../documents/document-key.js';
import { careplanLayouts, currentDocuments, formOf, storedPayload } from './file-records.js';

/** Documents looked at per transaction. */
const BATCH = 200;

export async function indexCareplanSlots(ctx: GatewayContext): Promise<{ checked: number; indexed: number }> {
  const forms = [...careplanLayouts().values()].filter((l) => l.kind === 'document').map((l) => l.form!);
  let checked = 0;
  let indexed = 0;
  for (const form of forms) {
    const def = formOf(ctx, form);
    const recs = await currentDocuments(ctx, form);
    for (let start = 0; start < recs.length; start += BATCH) {
      indexed += await ctx.store.transaction(async (tx) => {
        let n = 0;
        for (const found of recs.slice(start, start + BATCH)) {
          // Read again inside the transaction: an import may have replaced it since the search.
          const rec = await tx.read('DocumentReference', found.resource.id);
          if (!rec || (rec.resource as DocumentReference).status !== 'current') continue;
          const payload = await storedPayload(tx.read, def, rec.resource as DocumentReference);
          const row = documentKeyRow(form, rec.access.author, readKeys(def, payload));
          if (!row || (await tx.findByIndexRow('DocumentReference', row)).includes(rec.resource.id)) continue;
          const index = indexResource(ctx.searchParams, rec.resource);
          index.push(row);
          await tx.put({ resource: rec.resource, access: rec.access, index });
          n++;
        }
        return n;
      });
      checked += Math.min(BATCH, recs.length - start);
    }
  }
  return { checked, indexed };
}
