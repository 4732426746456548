// A stored document back as its care-form payload: DocumentReference → its QuestionnaireResponse (the lossless
// carrier, found by the document's deterministic ids) → the payload.
import type { DocumentReference, QuestionnaireResponse } from 'fhir/r4.js';
import { documentResourceId } from '../../engine/forms/assemble-document.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import type { JsonObject } from '../../base/json-paths.js';
import { questionnaireResponseToForm } from '../../engine/forms/translate.js';
import type { StoreTx } from '../../engine/storage/store.js';

/** Undefined when the document's QuestionnaireResponse is not stored. */
export async function storedPayload(
  read: StoreTx['read'],
  def: FormDefinition,
  docRef: DocumentReference,
): Promise<JsonObject | undefined> {
  const identifier = docRef.identifier?.[0]?.value ?? '';
  const qr = await read('QuestionnaireResponse', documentResourceId(identifier, 'questionnaireResponse'));
  return qr ? questionnaireResponseToForm(def, qr.resource as QuestionnaireResponse) : undefined;
}
