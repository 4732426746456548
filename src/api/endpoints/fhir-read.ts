import type { Party } from '../../base/party.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { notFound } from '../../base/outcome.js';
import type { GatewayResponse } from '../request.js';

/** GET /fhir/{type}/{id}. Deny by default: a stored resource the sharing rules do not open to the caller is 403. */
export async function readResource(
  ctx: GatewayContext,
  party: Party,
  type: string,
  id: string,
): Promise<GatewayResponse> {
  const rec = await ctx.store.read(type, id);
  if (!rec) throw notFound(`${type}/${id} is not known`);
  ctx.policy.enforce(party, { action: 'read', tag: rec.access, label: `${type}/${id}` });
  return {
    status: 200,
    body: rec.resource,
    headers: {
      ETag: `W/"${rec.resource.meta.versionId}"`,
      'Last-Modified': new Date(rec.resource.meta.lastUpdated).toUTCString(),
    },
  };
}
