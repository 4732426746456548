// POST /fhir with a transaction Bundle: every entry is processed inside ONE store transaction, so either all
// entries are stored or none is (the anchors' mistake was making this optional). A batch Bundle processes each
// entry on its own and reports each outcome.
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import type { Party } from '../../base/party.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { StoreTx } from '../../engine/storage/store.js';
import { newId } from '../../base/ids.js';
import { badRequest, normalizeError, type OperationOutcomeError, toOperationOutcome } from '../../base/outcome.js';
import { rewriteReferences } from '../../base/references.js';
import type { GatewayResponse } from '../request.js';
import { createInTx, SUPPORTING_TYPES } from './fhir-create.js';

function entryRequest(e: BundleEntry, i: number): { type: string } {
  const where = `Bundle.entry[${i}]`;
  if (!e.request) throw badRequest('each entry needs request.method and request.url', `${where}.request`);
  if (e.request.method !== 'POST')
    throw badRequest(`request.method ${e.request.method} is not supported; use POST`, `${where}.request.method`);
  const type = e.request.url?.replace(/^\/?(fhir\/)?/, '').split(/[/?]/)[0] ?? '';
  const rt = (e.resource as { resourceType?: string } | undefined)?.resourceType;
  if (!type || type !== rt)
    throw badRequest(`request.url ${e.request.url} does not match resourceType ${rt}`, `${where}.request.url`);
  return { type };
}

const status = (n: number): string => (n === 201 ? '201 Created' : n === 200 ? '200 OK' : String(n));

export async function processBundle(ctx: GatewayContext, party: Party, body: unknown): Promise<GatewayResponse> {
  const bundle = body as Bundle;
  if (typeof body !== 'object' || body === null || bundle.resourceType !== 'Bundle')
    throw badRequest('POST /fhir takes a transaction or batch Bundle', 'Bundle');
  if (bundle.type !== 'transaction' && bundle.type !== 'batch')
    throw badRequest(`Bundle.type ${bundle.type} is not transaction or batch`, 'Bundle.type');
  const entries = bundle.entry ?? [];
  const requests = entries.map(entryRequest);

  // urn:uuid fullUrls of supporting resources get their server ids up front, so entries can reference each other.
  const ids = new Map<string, string>();
  entries.forEach((e, i) => {
    const type = requests[i]!.type;
    if (e.fullUrl?.startsWith('urn:uuid:') && SUPPORTING_TYPES.has(type)) ids.set(e.fullUrl, `${type}/${newId()}`);
  });

  const runEntry = async (tx: StoreTx, e: BundleEntry, i: number): Promise<BundleEntry> => {
    const { type } = requests[i]!;
    const resource = rewriteReferences(e.resource, ids);
    const preset = e.fullUrl ? ids.get(e.fullUrl) : undefined;
    if (preset) (resource as { id?: string }).id = preset.split('/')[1]!;
    const out = await createInTx(ctx, tx, party, type, resource, e.request?.ifNoneExist, `Bundle.entry[${i}].resource`);
    if (e.fullUrl) ids.set(e.fullUrl, `${type}/${out.resource.id}`);
    return {
      fullUrl: e.fullUrl,
      response: {
        status: status(out.status),
        location: out.location,
        etag: `W/"${out.resource.meta?.versionId}"`,
        lastModified: out.resource.meta?.lastUpdated,
      },
    };
  };

  if (bundle.type === 'transaction') {
    const responseEntries = await ctx.store.transaction(async (tx) => {
      const out: BundleEntry[] = [];
      for (let i = 0; i < entries.length; i++) out.push(await runEntry(tx, entries[i]!, i));
      return out;
    });
    return {
      status: 200,
      body: { resourceType: 'Bundle', type: 'transaction-response', entry: responseEntries } satisfies Bundle,
    };
  }
  const responseEntries: BundleEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    try {
      responseEntries.push(await ctx.store.transaction((tx) => runEntry(tx, entries[i]!, i)));
    } catch (err) {
      const e = normalizeError(err) as OperationOutcomeError;
      responseEntries.push({ response: { status: String(e.status), outcome: toOperationOutcome(e.issues) } });
    }
  }
  return {
    status: 200,
    body: { resourceType: 'Bundle', type: 'batch-response', entry: responseEntries } satisfies Bundle,
  };
}
