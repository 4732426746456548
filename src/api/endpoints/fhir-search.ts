import type { Bundle } from 'fhir/r4.js';
import type { Party } from '../../base/party.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { GatewayRequest, GatewayResponse } from '../request.js';
import { parseSearch, type QueryParams } from '../../engine/search/search-query.js';

function queryString(query: QueryParams, overrides: Record<string, string>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || k in overrides) continue;
    for (const x of Array.isArray(v) ? v : [v]) sp.append(k, x);
  }
  for (const [k, v] of Object.entries(overrides)) sp.append(k, v);
  return sp.toString();
}

/** GET /fhir/{type}?… — only what the caller may read is searched (the scope is part of the SQL). */
export async function searchResources(
  ctx: GatewayContext,
  party: Party,
  type: string,
  query: QueryParams,
  fhirBase: string,
): Promise<GatewayResponse> {
  ctx.policy.enforce(party, { action: 'search' });
  const q = parseSearch(type, query, ctx.searchParams);
  const { total, records } = await ctx.store.search(q, ctx.policy.scope(party));
  const link = (relation: string, offset: number): { relation: string; url: string } => ({
    relation,
    url: `${fhirBase}/${type}?${queryString(query, { _count: String(q.count), _offset: String(offset) })}`,
  });
  const links = [link('self', q.offset)];
  if (q.offset + records.length < total) links.push(link('next', q.offset + q.count));
  if (q.offset > 0) links.push(link('previous', Math.max(0, q.offset - q.count)));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total,
    link: links,
    entry: records.map((r) => ({
      fullUrl: `${fhirBase}/${type}/${r.resource.id}`,
      resource: r.resource,
      search: { mode: 'match' },
    })),
  };
  return { status: 200, body: bundle };
}

/** POST /fhir/{type}/_search: the form-encoded body's parameters join the query's. */
export function searchFormParams(req: GatewayRequest): QueryParams {
  return { ...req.query, ...((req.body ?? {}) as Record<string, string>) };
}
