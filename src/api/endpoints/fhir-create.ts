// POST /fhir/{type}. A QuestionnaireResponse answering a form's Questionnaire becomes a stored care-form
// document; Patient, Practitioner and Organization are stored as the caller's own supporting resources
// (supporting-resource.ts). Every other type is not one this gateway creates through REST: 404, as R4 answers a
// create of an unsupported type (DocumentReference and Bundle it builds itself from submitted forms).
import type { QuestionnaireResponse } from 'fhir/r4.js';
import type { Party } from '../../base/party.js';
import { prepareDocumentOffThread, storeDocument } from '../../services/documents/submit-document.js';
import { questionnaireResponseToForm } from '../../engine/forms/translate.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import type { FormDocument } from '../../engine/forms/assemble-document.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { StoreTx } from '../../engine/storage/store.js';
import { newId } from '../../base/ids.js';
import { notSupported, OperationOutcomeError, throwIfErrors, issue } from '../../base/outcome.js';
import type { GatewayRequest, GatewayResponse } from '../request.js';
import {
  assertResource,
  checkReferencesResolve,
  conditionalMatch,
  existingOutcome,
  prepareSupporting,
  storeSupporting,
  SUPPORTING_TYPES,
  type CreateOutcome,
} from './supporting-resource.js';

export { SUPPORTING_TYPES, type CreateOutcome };

/** The types POST /fhir/{type} and Bundle entries create. */
export const CREATABLE_TYPES: ReadonlySet<string> = new Set(['QuestionnaireResponse', ...SUPPORTING_TYPES]);

/** 404 for a type this gateway does not create through the REST API. */
export function assertCreatable(type: string, where: string): void {
  if (CREATABLE_TYPES.has(type)) return;
  throw notSupported(
    `${type} is not a type this gateway creates through the REST API; it creates ${[...CREATABLE_TYPES].join(', ')} ` +
      '(DocumentReference and document Bundles are built by the gateway from submitted forms)',
    404,
    where,
  );
}

/** A QuestionnaireResponse already turned into the care-form document it will be stored as. */
export interface PreparedDocument {
  def: FormDefinition;
  doc: FormDocument;
}

/**
 * Validates a submitted QuestionnaireResponse against R4, its profile and its Questionnaire, reads it back into the
 * care form and builds the whole document from that (on a worker thread where the server has them), so a FHIR
 * submission and a care-form submission of the same content store exactly the same thing. No store involved.
 */
export async function prepareQuestionnaireResponse(
  ctx: GatewayContext,
  party: Party,
  body: unknown,
  where: string,
): Promise<PreparedDocument> {
  assertResource(body, 'QuestionnaireResponse', where);
  const qr = body as QuestionnaireResponse;
  const def = typeof qr.questionnaire === 'string' ? ctx.forms.byQuestionnaire(qr.questionnaire) : undefined;
  if (!def) {
    throw new OperationOutcomeError(422, [
      issue(
        'not-supported',
        `QuestionnaireResponse.questionnaire ${JSON.stringify(qr.questionnaire)} is not a form this gateway knows`,
        `${where}.questionnaire`,
      ),
    ]);
  }
  const issues = ctx.validator.validateQuestionnaireResponse(qr);
  throwIfErrors(
    where === 'QuestionnaireResponse'
      ? issues
      : issues.map((i) =>
          i.expression === undefined ? i : { ...i, expression: i.expression.replace(/^QuestionnaireResponse/, where) },
        ),
  );
  const payload = questionnaireResponseToForm(def, qr);
  return { def, doc: await prepareDocumentOffThread(ctx, party, def, payload) };
}

/** Stores a prepared document inside the caller's transaction; a resubmission of the same content is 200. */
export async function storeQuestionnaireResponse(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  p: PreparedDocument,
): Promise<CreateOutcome & { form: string }> {
  const result = await storeDocument(ctx, tx, party, p.def, p.doc);
  const stored = await tx.read('QuestionnaireResponse', result.questionnaireResponseId);
  const resource = stored!.resource;
  return {
    status: result.created ? 201 : 200,
    resource,
    location: `QuestionnaireResponse/${resource.id}/_history/${resource.meta.versionId}`,
    form: p.def.name,
  };
}

/** POST /fhir/{type}: one create (or conditional create) in its own transaction. */
export async function postResource(
  ctx: GatewayContext,
  party: Party,
  type: string,
  req: GatewayRequest,
): Promise<GatewayResponse> {
  assertCreatable(type, type);
  let out: CreateOutcome;
  if (type === 'QuestionnaireResponse') {
    const prepared = await prepareQuestionnaireResponse(ctx, party, req.body, type);
    const stored = await ctx.store.transaction((tx) => storeQuestionnaireResponse(ctx, tx, party, prepared));
    if (stored.status === 201) ctx.events?.stored?.(stored.form);
    out = stored;
  } else {
    const p = prepareSupporting(ctx, party, type, req.body, {
      where: type,
      ifNoneExist: req.headers['if-none-exist'],
      inBundle: false,
    });
    out = await ctx.store.transaction(async (tx) => {
      const existing = await conditionalMatch(tx, party, p);
      if (existing) return existingOutcome(existing);
      await checkReferencesResolve(ctx, tx, party, p.resource, type, new Set());
      return storeSupporting(ctx, tx, party, p.resource, newId());
    });
  }
  return {
    status: out.status,
    body: out.resource,
    headers: { Location: `${req.fhirBase}/${out.location}`, ETag: `W/"${out.resource.meta.versionId}"` },
  };
}
