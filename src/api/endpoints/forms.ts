// /forms/{form}: the same documents as care-form payloads, for systems that speak the paper form's fields.
import type { DocumentReference } from 'fhir/r4.js';
import type { Party } from '../../base/party.js';
import { storedPayload } from '../../services/documents/stored-payload.js';
import { prepareDocumentOffThread, storeDocument } from '../../services/documents/submit-document.js';
import { notFound } from '../../base/outcome.js';
import type { GatewayResponse } from '../request.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';

export function formOrThrow(ctx: GatewayContext, name: string): FormDefinition {
  const def = ctx.forms.get(name);
  if (!def) throw notFound(`no form named ${name}; known: ${[...ctx.forms.forms.keys()].join(', ')}`);
  return def;
}

export async function postForm(
  ctx: GatewayContext,
  party: Party,
  name: string,
  body: unknown,
): Promise<GatewayResponse> {
  const def = formOrThrow(ctx, name);
  // Translate and validate before the transaction (on a worker thread where the server has them), so the write
  // lock is held only for the writes.
  const doc = await prepareDocumentOffThread(ctx, party, def, body);
  const result = await ctx.store.transaction((tx) => storeDocument(ctx, tx, party, def, doc));
  if (result.created) ctx.events?.stored?.(def.name);
  return {
    status: result.created ? 201 : 200,
    headers: { Location: `/forms/${def.name}/${result.documentReferenceId}` },
    body: result.doc.documentReference,
  };
}

export async function getForm(ctx: GatewayContext, party: Party, name: string, id: string): Promise<GatewayResponse> {
  const def = formOrThrow(ctx, name);
  const ref = await ctx.store.read('DocumentReference', id);
  if (!ref || ref.access.form !== def.name) throw notFound(`${def.name}/${id} is not known`);
  ctx.policy.enforce(party, { action: 'read', tag: ref.access, label: `${def.name}/${id}` });
  const payload = await storedPayload((t, i) => ctx.store.read(t, i), def, ref.resource as DocumentReference);
  if (!payload) throw notFound(`${def.name}/${id} has no answers stored`);
  return { status: 200, body: payload };
}
