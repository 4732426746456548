import type { Bundle } from 'fhir/r4.js';
import type { Party } from '../../base/party.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { GatewayRequest, GatewayResponse } from '../request.js';
import { encodeCursor } from '../../engine/search/search-cursor.js';
import { parseSearch, type QueryParams } from '../../engine/search/search-query.js';

/** The query again, with `overrides` set and `drop` removed. */
function queryString(query: QueryParams, overrides: Record<string, string>, drop: readonly string[]): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || k in overrides || drop.includes(k)) continue;
    for (const x of Array.isArray(v) ? v : [v]) sp.append(k, x);
  }
  for (const [k, v] of Object.entries(overrides)) sp.append(k, v);
  return sp.toString();
}

/**
 * GET /fhir/{type}?… — only what the caller may read is searched (the scope is part of the SQL). The next and
 * previous links carry a `_cursor` (keyset paging), so following them costs the same on every page; Bundle.total
 * is present when the store counted it (see TotalMode).
 */
export async function searchResources(
  ctx: GatewayContext,
  party: Party,
  type: string,
  query: QueryParams,
  fhirBase: string,
): Promise<GatewayResponse> {
  ctx.policy.enforce(party, { action: 'search' });
  const q = parseSearch(type, query, ctx.searchParams);
  const { total, records, hasNext, hasPrevious, edges } = await ctx.store.search(q, ctx.policy.scope(party));
  const url = (overrides: Record<string, string>, drop: readonly string[] = []): string =>
    `${fhirBase}/${type}?${queryString(query, overrides, drop)}`;
  const links = [{ relation: 'self', url: url({}) }];
  const paging = ['_offset', '_cursor'];
  const count = String(q.count);
  if (hasNext && edges)
    links.push({ relation: 'next', url: url({ _count: count, _cursor: encodeCursor('after', edges.last) }, paging) });
  if (hasPrevious && edges)
    links.push({
      relation: 'previous',
      url: url({ _count: count, _cursor: encodeCursor('before', edges.first) }, paging),
    });
  else if (hasPrevious && !q.cursor)
    // past the end by offset: the page before is the last one the offset can reach
    links.push({
      relation: 'previous',
      url: url({ _count: count, _offset: String(Math.max(0, q.offset - q.count)) }, paging),
    });
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(total !== undefined ? { total } : {}),
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
