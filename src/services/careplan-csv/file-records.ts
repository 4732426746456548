// What import, export and the slot backfill share: the layouts (loaded once), the form a layout names, a stored
// document's payload, every office's current documents of a form, and how an imported file is remembered — a FHIR
// List whose id comes from the file name, holding its SHA-256 and its documents (or deletion keys) in file order,
// so GET regenerates the file from the stored documents.
import type { DocumentReference } from 'fhir/r4.js';
import { CANONICAL_BASE, deterministicUuid } from '../../base/ids.js';
import type { JsonObject } from '../../base/json-paths.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { allOf, anyOf, eq } from '../../engine/storage/row-filter.js';
import type { StoredRecord, StoreTx } from '../../engine/storage/store.js';
import { storedPayload as payloadOf } from '../documents/stored-payload.js';
import { loadLayouts, type Layout } from './layout.js';

export const FILE_ID_SYSTEM = `${CANONICAL_BASE}/IdSystem/careplan-csv-file`;
export const DELETION_KEY_SYSTEM = `${CANONICAL_BASE}/IdSystem/careplan-csv-deletion-key`;
export const SHA256_EXT = `${CANONICAL_BASE}/StructureDefinition/careplan-csv-sha256`;
const DOC_TYPE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/document-type`;

let layoutCache: Map<string, Layout> | undefined;
export const careplanLayouts = (): Map<string, Layout> => (layoutCache ??= loadLayouts());

export const listIdOf = (fileName: string): string => deterministicUuid('careplan-csv-file', fileName);

export function formOf(ctx: GatewayContext, name: string): FormDefinition {
  const def = ctx.forms.get(name);
  if (!def) throw new Error(`form ${name} named by a care-plan CSV layout is not loaded`);
  return def;
}

/** The payload of a stored document (it must have one: the care-plan documents are all ours). */
export async function storedPayload(
  read: StoreTx['read'],
  def: FormDefinition,
  docRef: DocumentReference,
): Promise<JsonObject> {
  const payload = await payloadOf(read, def, docRef);
  if (!payload) throw new Error(`DocumentReference/${docRef.id} has no QuestionnaireResponse`);
  return payload;
}

/** Every office's current documents of `form`, oldest first (operator work: there is no caller), by the search. */
export async function currentDocuments(ctx: GatewayContext, form: string): Promise<StoredRecord[]> {
  const clauses = [
    { kind: 'token' as const, param: 'type', values: [{ system: DOC_TYPE_SYSTEM, code: form }] },
    { kind: 'token' as const, param: 'status', values: [{ code: 'current' }] },
  ];
  // A data selection, not an access decision.
  const scope = anyOf(allOf(eq('form', form)));
  const out: StoredRecord[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await ctx.store.search(
      { resourceType: 'DocumentReference', clauses, count: 500, offset, sort: 'lastUpdated' },
      scope,
    );
    out.push(...page.records);
    if (page.records.length < 500) return out;
  }
}
