// `translate` and `validate`: the mapping engine and validators without a server.
import { readFileSync } from 'node:fs';
import type { Bundle, QuestionnaireResponse } from 'fhir/r4.js';
import { validateDocument } from '../../services/documents/submit-document.js';
import { systemClock } from '../../base/clock.js';
import { badRequest, OperationOutcomeError, throwIfErrors, type Issue } from '../../base/outcome.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import { validatePayload } from '../../engine/forms/payload-validator.js';
import { formToFhir, questionnaireResponseToForm } from '../../engine/forms/translate.js';
import type { GatewayContext } from '../../engine/gateway-context.js';

export function readJsonFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`${file} is not JSON: ${(e as Error).message}`);
  }
}

/** The QuestionnaireResponse inside a FHIR input: the resource itself, or the one in a document Bundle. */
export function findQuestionnaireResponse(input: unknown): QuestionnaireResponse {
  const r = input as { resourceType?: string };
  if (r?.resourceType === 'QuestionnaireResponse') return input as QuestionnaireResponse;
  if (r?.resourceType === 'Bundle') {
    const qr = (input as Bundle).entry?.find((e) => e.resource?.resourceType === 'QuestionnaireResponse')?.resource;
    if (qr) return qr as QuestionnaireResponse;
  }
  throw badRequest('expected a QuestionnaireResponse or a Bundle that contains one');
}

export function translateToFhir(ctx: GatewayContext, def: FormDefinition, payload: unknown): Bundle {
  const doc = formToFhir(def, payload, { now: systemClock() });
  validateDocument(ctx, doc);
  return doc.bundle;
}

export function translateToForm(ctx: GatewayContext, def: FormDefinition, input: unknown): unknown {
  const qr = findQuestionnaireResponse(input);
  throwIfErrors(ctx.validator.validateQuestionnaireResponse(qr));
  return questionnaireResponseToForm(def, qr);
}

/** validate FILE: a FHIR resource against the profiles, or a care-form payload against its form. */
export function validateInput(
  ctx: GatewayContext,
  input: unknown,
  formName?: string,
): { kind: string; issues: Issue[] } {
  const r = input as { resourceType?: unknown };
  if (typeof r === 'object' && r !== null && typeof r.resourceType === 'string') {
    const issues =
      r.resourceType === 'QuestionnaireResponse'
        ? ctx.validator.validateQuestionnaireResponse(input)
        : ctx.validator.validate(input);
    return { kind: `FHIR ${r.resourceType}`, issues };
  }
  const forms = [...ctx.forms.forms.values()];
  const def = formName ? ctx.forms.get(formName) : forms.length === 1 ? forms[0] : undefined;
  if (!def)
    throw badRequest(
      formName ? `no form named ${formName}` : `say which form with --form (${forms.map((f) => f.name).join(', ')})`,
    );
  const issues = validatePayload(def, input);
  if (issues.length === 0) {
    try {
      formToFhir(def, input, { now: systemClock() });
    } catch (e) {
      if (e instanceof OperationOutcomeError) return { kind: `${def.name} payload`, issues: [...e.issues] };
      throw e;
    }
  }
  return { kind: `${def.name} payload`, issues };
}
