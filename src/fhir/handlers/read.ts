import type { Party } from '../../access/party.js';
import type { GatewayContext } from '../../gateway-context.js';
import { notFound } from '../outcome.js';
import type { GatewayResponse } from '../request.js';

/** GET /fhir/{type}/{id}. A resource the caller may not see is reported as not found, so ids leak nothing. */
export async function readResource(ctx: GatewayContext, party: Party, type: string, id: string): Promise<GatewayResponse> {
  const rec = await ctx.store.read(type, id);
  if (!rec || !ctx.policy.canRead(party, rec.access)) throw notFound(`${type}/${id} is not known`);
  return {
    status: 200,
    body: rec.resource,
    headers: { ETag: `W/"${rec.resource.meta.versionId}"`, 'Last-Modified': new Date(rec.resource.meta.lastUpdated).toUTCString() },
  };
}
