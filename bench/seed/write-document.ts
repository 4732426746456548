// The write half of storeDocument (src/services/documents/submit-document.ts) without its duplicate check: the
// same access tag, the same resources in the same order, each indexed by the real indexResource. The check is
// left out because it is what does not scale today — its `SELECT DISTINCT id FROM search_index …` is planned on
// search_index_owner (type) and reads every index row of the type, ~30 ms per document at 10k documents — and a
// generated store has unique identifiers by construction. test/bench-seed.test.ts checks that a filled store holds
// exactly the rows storeDocument writes, so a change to the real write path shows up there.
import type { Resource } from 'fhir/r4.js';
import { partyKey, type Party } from '../../src/base/party.js';
import type { FormDocument } from '../../src/engine/forms/assemble-document.js';
import type { FormDefinition } from '../../src/engine/forms/form-definition.js';
import type { GatewayContext } from '../../src/engine/gateway-context.js';
import { indexResource } from '../../src/engine/search/search-parameters.js';
import type { AccessTag, StoreTx } from '../../src/engine/storage/store.js';

export async function writeDocument(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  def: FormDefinition,
  doc: FormDocument,
): Promise<void> {
  const access: AccessTag = { author: partyKey(party), form: def.name };
  if (doc.keys.insurerNumber !== undefined) access.insurerNumber = doc.keys.insurerNumber;
  if (doc.keys.insuredNumber !== undefined) access.insuredNumber = doc.keys.insuredNumber;
  for (const resource of [doc.documentReference, doc.bundle, ...doc.resources] as Array<Resource & { id: string }>)
    await tx.put({ resource, access, index: indexResource(ctx.searchParams, resource) });
}
