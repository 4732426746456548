// The two directions of a care form, as used by the REST handlers and the CLI alike.
import type { QuestionnaireResponse } from 'fhir/r4.js';
import { issue, OperationOutcomeError, throwIfErrors, type Issue } from '../../base/outcome.js';
import { assembleDocument, type FormDocument } from './assemble-document.js';
import type { FormDefinition } from './form-definition.js';
import { itemsToPayload, payloadToItems } from './items.js';
import { isObject, type JsonObject } from '../../base/json-paths.js';
import { validatePayload } from './payload-validator.js';

/** Care-form payload → FHIR document. Throws one OperationOutcomeError listing every problem. */
export function formToFhir(
  def: FormDefinition,
  payload: unknown,
  opts: { now: string; submitter?: string },
): FormDocument {
  if (!isObject(payload))
    throw new OperationOutcomeError(400, [issue('structure', `a ${def.mapping.title} payload must be a JSON object`)]);
  const schemaIssues = validatePayload(def, payload);
  if (schemaIssues.length > 0) {
    // Report everything at once: the schema cannot check what the engine checks (dates that exist, era
    // boundaries, check digits), so run the item mapping too and add what the schema did not already name.
    const engineIssues: Issue[] = [];
    payloadToItems({ def, issues: engineIssues }, def.questionnaire.item, payload, '');
    const named = new Set(schemaIssues.map((i) => i.expression));
    throwIfErrors([...schemaIssues, ...engineIssues.filter((i) => !named.has(i.expression))]);
  }
  return assembleDocument(def, payload, opts);
}

/** QuestionnaireResponse (already validated against the Questionnaire) → care-form payload. */
export function questionnaireResponseToForm(def: FormDefinition, qr: QuestionnaireResponse): JsonObject {
  const issues: Issue[] = [];
  const payload: JsonObject = {};
  itemsToPayload({ def, issues }, def.questionnaire.item, qr.item, payload, 'QuestionnaireResponse');
  throwIfErrors(issues);
  return payload;
}
