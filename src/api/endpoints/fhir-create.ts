// POST /fhir/{type}. A QuestionnaireResponse answering a form's Questionnaire becomes a stored care-form
// document; Patient, Practitioner and Organization are stored as the caller's own supporting resources.
// Everything else is created by the gateway itself (Bundle, DocumentReference) and refused here.
import type { QuestionnaireResponse, Resource } from 'fhir/r4.js';
import { partyKey, type Party } from '../../base/party.js';
import { submitDocument } from '../../services/documents/submit-document.js';
import { questionnaireResponseToForm } from '../../engine/forms/translate.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { StoreTx } from '../../engine/storage/store.js';
import { newId } from '../../base/ids.js';
import {
  badRequest,
  notSupported,
  OperationOutcomeError,
  preconditionFailed,
  throwIfErrors,
  issue,
} from '../../base/outcome.js';
import { indexResource } from '../../engine/search/search-parameters.js';
import type { GatewayRequest, GatewayResponse } from '../request.js';

export const SUPPORTING_TYPES = new Set(['Patient', 'Practitioner', 'Organization']);

export interface CreateOutcome {
  status: 200 | 201;
  resource: Resource & { id: string };
  location: string;
}

function assertResource(body: unknown, type: string, where: string): asserts body is Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('the body must be a FHIR resource (a JSON object)', where);
  const rt = (body as { resourceType?: unknown }).resourceType;
  if (rt !== type)
    throw badRequest(`resourceType is ${JSON.stringify(rt)}; this endpoint takes ${type}`, `${where}.resourceType`);
}

/** Parses If-None-Exist; only `identifier=system|value` is supported (the business identifier). */
function parseIfNoneExist(header: string): { system: string; value: string } {
  const sp = new URLSearchParams(header.replace(/^.*\?/, ''));
  const raw = sp.get('identifier');
  const keys = [...sp.keys()];
  if (raw === null || keys.length !== 1 || !raw.includes('|'))
    throw badRequest('If-None-Exist supports identifier=system|value only', 'If-None-Exist');
  const bar = raw.indexOf('|');
  return { system: raw.slice(0, bar), value: raw.slice(bar + 1) };
}

export async function createInTx(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  type: string,
  body: unknown,
  ifNoneExist: string | undefined,
  where = type,
): Promise<CreateOutcome> {
  assertResource(body, type, where);
  if (type === 'QuestionnaireResponse')
    return createQuestionnaireResponse(ctx, tx, party, body as QuestionnaireResponse, where);
  if (!SUPPORTING_TYPES.has(type))
    throw notSupported(`${type} cannot be created through the REST API; the gateway creates it`);
  ctx.policy.enforce(party, { action: 'create-supporting', resourceType: type });
  throwIfErrors(
    ctx.validator
      .validate(body)
      .map((i) =>
        i.expression && where !== type ? { ...i, expression: i.expression.replace(new RegExp(`^${type}`), where) } : i,
      ),
  );

  if (ifNoneExist) {
    const { system, value } = parseIfNoneExist(ifNoneExist);
    await tx.lock(`${type}|${system}|${value}`);
    const ids = await tx.findByIdentifier(type, system, value);
    // Ownership, not visibility (so not a policy question): only the caller's own supporting resources count as
    // existing. A Patient it may read inside another organisation's document is not one it can reuse as its own.
    const mine = [];
    for (const id of ids) {
      const rec = await tx.read(type, id);
      if (rec && rec.access.author === partyKey(party)) mine.push(rec);
    }
    if (mine.length > 1) throw preconditionFailed(`If-None-Exist matched ${mine.length} ${type} resources`);
    if (mine.length === 1)
      return {
        status: 200,
        resource: mine[0]!.resource,
        location: `${type}/${mine[0]!.resource.id}/_history/${mine[0]!.resource.meta.versionId}`,
      };
  }
  // The server assigns id, versionId and lastUpdated; the client's declared profiles are kept.
  const { id: _clientId, meta, ...rest } = body;
  const resource = {
    ...rest,
    id: newId(),
    ...(meta?.profile ? { meta: { profile: meta.profile } } : {}),
  } as Resource & { id: string };
  const stored = await tx.put({
    resource,
    access: { author: partyKey(party) },
    index: indexResource(ctx.searchParams, resource),
  });
  return {
    status: 201,
    resource: stored.resource,
    location: `${type}/${stored.resource.id}/_history/${stored.resource.meta.versionId}`,
  };
}

async function createQuestionnaireResponse(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  qr: QuestionnaireResponse,
  where: string,
): Promise<CreateOutcome> {
  const def = qr.questionnaire ? ctx.forms.byQuestionnaire(qr.questionnaire) : undefined;
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
  // The QR is read back into the care form and the whole document rebuilt from it, so a FHIR submission and a
  // care-form submission of the same content store exactly the same thing.
  const payload = questionnaireResponseToForm(def, qr);
  const result = await submitDocument(ctx, tx, party, def, payload);
  const stored = await tx.read('QuestionnaireResponse', result.questionnaireResponseId);
  const resource = stored!.resource;
  return {
    status: result.created ? 201 : 200,
    resource,
    location: `QuestionnaireResponse/${resource.id}/_history/${resource.meta.versionId}`,
  };
}

/** POST /fhir/{type}: one create (or conditional create) in its own transaction. */
export async function postResource(
  ctx: GatewayContext,
  party: Party,
  type: string,
  req: GatewayRequest,
): Promise<GatewayResponse> {
  const out = await ctx.store.transaction((tx) =>
    createInTx(ctx, tx, party, type, req.body, req.headers['if-none-exist']),
  );
  return {
    status: out.status,
    body: out.resource,
    headers: { Location: `${req.fhirBase}/${out.location}`, ETag: `W/"${out.resource.meta?.versionId}"` },
  };
}
