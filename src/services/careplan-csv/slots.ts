// The stored documents a care-plan file replaces or deletes, found by their slot (form, sending office, 保険者番号,
// 被保険者番号, 計画作成(変更)日 or 対象年月: services/documents/document-key.ts) inside the import's transaction, so
// a document written earlier in the same file, or by a file committed together with it, is seen; and the status
// changes that keep the slot row on current documents only.
import type { DocumentReference } from 'fhir/r4.js';
import type { Json } from '../../base/json-paths.js';
import type { FormKeys } from '../../engine/forms/assemble-document.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { indexResource } from '../../engine/search/search-parameters.js';
import type { StoredRecord, StoreTx } from '../../engine/storage/store.js';
import { documentKeyRow } from '../documents/document-key.js';

const SLOT_KEYS = ['insurerNumber', 'insuredNumber', 'date'] as const;

/**
 * A file's key (payload path → value: 保険者番号, 被保険者番号 and the date the layout names) as the form's keys. The
 * layouts' keys are the forms' slot keys; a layout naming other paths is a mistake in the data, not in the file.
 */
export function slotKeys(def: FormDefinition, key: Record<string, Json>): FormKeys {
  const keys: FormKeys = {};
  for (const k of SLOT_KEYS) {
    const path = def.mapping.keys[k];
    const v = path === undefined ? undefined : key[path];
    if (v === undefined || v === null) throw new Error(`a care-plan CSV key lacks ${def.name}'s ${k} (${path})`);
    keys[k] = String(v);
  }
  if (Object.keys(key).length !== SLOT_KEYS.length)
    throw new Error(`a care-plan CSV key names paths beyond ${def.name}'s slot: ${Object.keys(key).join(', ')}`);
  return keys;
}

/** The current documents of `def` in the slot of `author` and `keys`, oldest first, as `tx` sees them. */
export async function currentInSlot(
  tx: StoreTx,
  def: FormDefinition,
  author: string,
  keys: FormKeys,
): Promise<StoredRecord[]> {
  const row = documentKeyRow(def.name, author, keys)!;
  const out: StoredRecord[] = [];
  for (const id of await tx.findByIndexRow('DocumentReference', row)) {
    const rec = await tx.read('DocumentReference', id);
    // The row is dropped when a document stops being current; checking again costs nothing and guards the rule.
    if (rec && (rec.resource as DocumentReference).status === 'current' && rec.access.author === author) out.push(rec);
  }
  const updated = (r: StoredRecord): string => r.resource.meta.lastUpdated;
  return out.sort((a, b) => updated(a).localeCompare(updated(b)) || a.resource.id.localeCompare(b.resource.id));
}

/**
 * Stores a DocumentReference again with another status: out of its slot when superseded or entered-in-error, in
 * it (`keys` required) when current again.
 */
export async function setStatus(
  ctx: GatewayContext,
  tx: StoreTx,
  rec: StoredRecord,
  status: 'current' | 'superseded' | 'entered-in-error',
  keys?: FormKeys,
): Promise<void> {
  const resource = { ...(rec.resource as DocumentReference & { id: string }), status };
  const index = indexResource(ctx.searchParams, resource);
  if (status === 'current') {
    const row = rec.access.form && keys ? documentKeyRow(rec.access.form, rec.access.author, keys) : undefined;
    if (!row) throw new Error(`DocumentReference/${resource.id} made current again without its slot`);
    index.push(row);
  }
  await tx.put({ resource, access: rec.access, index });
}
