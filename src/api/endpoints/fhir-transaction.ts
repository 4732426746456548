// POST /fhir with a transaction or batch Bundle of creates, by the R4 rules (http.html, "transaction"):
//
// Transaction: all or nothing, in ONE store transaction (the anchors' mistake was making this optional). Every
// entry is checked first (policy, R4 validation, reference shapes; documents are built), outside the store. Then,
// inside it: conditional creates (request.ifNoneExist) resolve to the caller's existing resource first, so an id
// is assigned only to what is really new; every urn:uuid fullUrl then maps to its entry's id, whether the entry
// comes earlier or later; references are rewritten with that map, and every one must resolve (a urn:uuid that
// names no entry is a 400 with its path), so nothing stored dangles. The first failing entry's status and
// OperationOutcome are the answer.
//
// Batch: each entry on its own, in its own store transaction (a few at a time, see BATCH_IN_FLIGHT), its outcome in
// its own response entry, in entry order. R4 makes a reference from one batch entry to another non-conformant, so a
// urn:uuid reference is refused for that entry. Entries may be conditional, so a blind retry of a batch duplicates
// nothing.
//
// Both give the event loop a turn every few milliseconds (base/cooperative.ts): a 1,000-entry Bundle never holds
// /healthz or other callers for longer than one entry's work.
import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import type { Party } from '../../base/party.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { StoreTx, StoredRecord } from '../../engine/storage/store.js';
import { newId } from '../../base/ids.js';
import { createYielder } from '../../base/cooperative.js';
import {
  badRequest,
  normalizeError,
  OperationOutcomeError,
  issue,
  toOperationOutcome,
  tooCostly,
} from '../../base/outcome.js';
import { rewriteReferences } from '../../base/references.js';
import type { RequestLimits } from '../limits.js';
import type { GatewayResponse } from '../request.js';
import {
  assertCreatable,
  prepareQuestionnaireResponse,
  storeQuestionnaireResponse,
  type PreparedDocument,
} from './fhir-create.js';
import {
  checkReferencesResolve,
  conditionalMatch,
  existingOutcome,
  prepareSupporting,
  storeSupporting,
  type CreateOutcome,
  type PreparedSupporting,
} from './supporting-resource.js';

type Plan = { index: number; type: string; fullUrl: string | undefined } & (
  { kind: 'supporting'; p: PreparedSupporting } | { kind: 'document'; d: PreparedDocument }
);

const URN_UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ENTRY_URL = /^\/?(?:fhir\/)?([A-Z][A-Za-z]+)\/?$/;

/** More entries than the limit is refused before any of them is looked at (router precheck). */
export function checkBundleSize(body: unknown, limits: RequestLimits): void {
  const entry = (body as { entry?: unknown } | null)?.entry;
  if (Array.isArray(entry) && entry.length > limits.bundleEntries)
    throw tooCostly(
      413,
      `the Bundle has ${entry.length} entries; at most ${limits.bundleEntries} are accepted in one request`,
      'Bundle.entry',
    );
}

function entryRequest(e: unknown, i: number): { type: string; ifNoneExist: string | undefined } {
  const where = `Bundle.entry[${i}]`;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw badRequest('each entry must be an object', where);
  const { request, resource } = e as BundleEntry;
  if (!request) throw badRequest('each entry needs request.method and request.url', `${where}.request`);
  if (request.method !== 'POST')
    throw badRequest(`request.method ${String(request.method)} is not supported; use POST`, `${where}.request.method`);
  const type = typeof request.url === 'string' ? ENTRY_URL.exec(request.url)?.[1] : undefined;
  const rt = (resource as { resourceType?: unknown } | undefined)?.resourceType;
  if (type === undefined || type !== rt)
    throw badRequest(
      `request.url ${JSON.stringify(request.url)} must be the type of the resource to create (${JSON.stringify(rt)})`,
      `${where}.request.url`,
    );
  const ifNoneExist = request.ifNoneExist;
  if (ifNoneExist !== undefined && typeof ifNoneExist !== 'string')
    throw badRequest('request.ifNoneExist must be a string', `${where}.request.ifNoneExist`);
  return { type, ifNoneExist };
}

function fullUrlOf(e: BundleEntry, i: number): string | undefined {
  if (e.fullUrl === undefined) return undefined;
  if (typeof e.fullUrl !== 'string' || !URN_UUID.test(e.fullUrl))
    throw badRequest(
      `fullUrl ${JSON.stringify(e.fullUrl)}: the fullUrl of an entry to create is urn:uuid:<uuid>`,
      `Bundle.entry[${i}].fullUrl`,
    );
  return e.fullUrl.toLowerCase();
}

/** Everything about one entry that needs no store; throws its OperationOutcome. */
async function prepareEntry(
  ctx: GatewayContext,
  party: Party,
  e: BundleEntry,
  index: number,
  inTransaction: boolean,
): Promise<Plan> {
  const { type, ifNoneExist } = entryRequest(e, index);
  const fullUrl = fullUrlOf(e, index);
  const where = `Bundle.entry[${index}].resource`;
  assertCreatable(type, `Bundle.entry[${index}].request.url`);
  if (type === 'QuestionnaireResponse') {
    if (ifNoneExist !== undefined)
      throw badRequest(
        'request.ifNoneExist is not supported for a QuestionnaireResponse: a document is identified by its own ' +
          'business identifier, so sending it again already stores nothing new (200)',
        `Bundle.entry[${index}].request.ifNoneExist`,
      );
    return {
      index,
      type,
      fullUrl,
      kind: 'document',
      d: await prepareQuestionnaireResponse(ctx, party, e.resource, where),
    };
  }
  const p = prepareSupporting(ctx, party, type, e.resource, {
    where,
    ifNoneExist,
    ifNoneExistWhere: `Bundle.entry[${index}].request.ifNoneExist`,
    inBundle: inTransaction,
  });
  return { index, type, fullUrl, kind: 'supporting', p };
}

const statusText = (n: number): string => (n === 201 ? '201 Created' : n === 200 ? '200 OK' : String(n));

function responseEntry(fhirBase: string, out: CreateOutcome): BundleEntry {
  return {
    fullUrl: `${fhirBase}/${out.resource.resourceType}/${out.resource.id}`,
    response: {
      status: statusText(out.status),
      location: out.location,
      etag: `W/"${out.resource.meta.versionId}"`,
      lastModified: out.resource.meta.lastUpdated,
    },
  };
}

/** The resources a document entry will write, as Type/id: other entries may reference them. */
const documentResources = (d: PreparedDocument): Resource[] => [
  d.doc.documentReference,
  d.doc.bundle,
  ...d.doc.resources,
];

async function processTransaction(
  ctx: GatewayContext,
  party: Party,
  entries: BundleEntry[],
  fhirBase: string,
): Promise<BundleEntry[]> {
  const step = createYielder();
  const plans: Plan[] = [];
  const seenUrls = new Map<string, number>();
  const conditions = new Map<string, number>();
  for (let i = 0; i < entries.length; i++) {
    const plan = await prepareEntry(ctx, party, entries[i]!, i, true);
    if (plan.fullUrl !== undefined) {
      const first = seenUrls.get(plan.fullUrl);
      if (first !== undefined)
        throw badRequest(`fullUrl ${plan.fullUrl} is also the fullUrl of entry ${first}`, `Bundle.entry[${i}].fullUrl`);
      seenUrls.set(plan.fullUrl, i);
    }
    if (plan.kind === 'supporting' && plan.p.condition) {
      // R4: resource identities may not overlap inside a transaction; two creates on one condition would be one
      // resource or two depending on the order they ran in.
      const key = `${plan.type}|${plan.p.condition.system}|${plan.p.condition.value}`;
      const first = conditions.get(key);
      if (first !== undefined)
        throw badRequest(
          `request.ifNoneExist is the same as entry ${first}'s: the two would be the same resource`,
          `Bundle.entry[${i}].request.ifNoneExist`,
        );
      conditions.set(key, i);
    }
    plans.push(plan);
    await step();
  }

  const stored: string[] = [];
  const out = await ctx.store.transaction(async (tx: StoreTx) => {
    // 1. Conditional creates resolve before any id is assigned.
    const matched = new Map<number, StoredRecord>();
    for (const plan of plans) {
      if (plan.kind !== 'supporting') continue;
      const existing = await conditionalMatch(tx, party, plan.p);
      if (existing) matched.set(plan.index, existing);
      await step();
    }
    // 2. Ids: the existing resource's, a document's own (deterministic), or a new one; fullUrl → Type/id.
    const ids = new Map<number, string>();
    const byFullUrl = new Map<string, string>();
    const created = new Set<string>();
    for (const plan of plans) {
      const id =
        plan.kind === 'document'
          ? plan.d.doc.questionnaireResponse.id!
          : (matched.get(plan.index)?.resource.id ?? newId());
      ids.set(plan.index, id);
      if (plan.fullUrl !== undefined) byFullUrl.set(plan.fullUrl, `${plan.type}/${id}`);
      if (plan.kind === 'document') for (const r of documentResources(plan.d)) created.add(`${r.resourceType}/${r.id}`);
      else if (!matched.has(plan.index)) created.add(`${plan.type}/${id}`);
    }
    // 3. In entry order: rewrite references, check that each resolves, store.
    const out: BundleEntry[] = [];
    const seen = new Map<string, boolean>();
    const urnMap = lowerCaseUrnKeys(byFullUrl);
    for (const plan of plans) {
      let result: CreateOutcome;
      const existing = matched.get(plan.index);
      if (existing) result = existingOutcome(existing);
      else if (plan.kind === 'document') {
        result = await storeQuestionnaireResponse(ctx, tx, party, plan.d);
        if (result.status === 201) stored.push(plan.d.def.name);
      } else {
        const resource = rewriteReferences(plan.p.resource, urnMap);
        await checkReferencesResolve(ctx, tx, party, resource, plan.p.where, created, seen);
        result = await storeSupporting(ctx, tx, party, resource, ids.get(plan.index)!);
      }
      out.push(responseEntry(fhirBase, result));
      await step();
    }
    return out;
  });
  for (const form of stored) ctx.events?.stored?.(form); // after the commit that holds them
  return out;
}

/** urn:uuid is case-insensitive in its hex digits: the map answers both spellings of a reference. */
function lowerCaseUrnKeys(map: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  return {
    get: (k: string) => map.get(k.startsWith('urn:uuid:') ? k.toLowerCase() : k),
    has: (k: string) => map.has(k.startsWith('urn:uuid:') ? k.toLowerCase() : k),
  } as ReadonlyMap<string, string>;
}

/**
 * Batch entries in flight at once. Entries are independent (R4), so several can wait for the store together, and
 * the embedded store then commits them in one group (each in its own savepoint, one fsync) instead of one commit per
 * entry; the response keeps the entries' order.
 */
const BATCH_IN_FLIGHT = 8;

async function processBatch(
  ctx: GatewayContext,
  party: Party,
  entries: BundleEntry[],
  fhirBase: string,
  limits: RequestLimits,
): Promise<{ entries: BundleEntry[]; errors: unknown[] }> {
  const step = createYielder();
  const out: BundleEntry[] = new Array<BundleEntry>(entries.length);
  const errors: unknown[] = [];
  const runEntry = async (i: number): Promise<BundleEntry> => {
    try {
      const plan = await prepareEntry(ctx, party, entries[i]!, i, false);
      const result = await ctx.store.transaction(async (tx): Promise<CreateOutcome> => {
        await step(); // the embedded store runs queued transactions back to back: a turn between entries
        if (plan.kind === 'document') return storeQuestionnaireResponse(ctx, tx, party, plan.d);
        const existing = await conditionalMatch(tx, party, plan.p);
        if (existing) return existingOutcome(existing);
        await checkReferencesResolve(ctx, tx, party, plan.p.resource, plan.p.where, new Set());
        return storeSupporting(ctx, tx, party, plan.p.resource, newId());
      });
      if (plan.kind === 'document' && result.status === 201) ctx.events?.stored?.(plan.d.def.name);
      return responseEntry(fhirBase, result);
    } catch (err) {
      const e = normalizeError(err);
      if (e.status >= 500) errors.push(err);
      return { response: { status: String(e.status), outcome: toOperationOutcome(e.issues, limits.outcome) } };
    }
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < entries.length) {
      const i = next++;
      out[i] = await runEntry(i);
      await step();
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_IN_FLIGHT, entries.length) }, lane));
  return { entries: out, errors };
}

export async function processBundle(
  ctx: GatewayContext,
  party: Party,
  body: unknown,
  limits: RequestLimits,
  fhirBase: string,
): Promise<GatewayResponse & { error?: unknown }> {
  const bundle = body as Bundle;
  if (typeof body !== 'object' || body === null || bundle.resourceType !== 'Bundle')
    throw badRequest('POST /fhir takes a transaction or batch Bundle', 'Bundle');
  if (bundle.type !== 'transaction' && bundle.type !== 'batch')
    throw badRequest(`Bundle.type ${String(bundle.type)} is not transaction or batch`, 'Bundle.type');
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry))
    throw new OperationOutcomeError(400, [issue('structure', 'Bundle.entry must be an array', 'Bundle.entry')]);
  checkBundleSize(bundle, limits);
  const entries = bundle.entry ?? [];

  if (bundle.type === 'transaction') {
    const responseEntries = await processTransaction(ctx, party, entries, fhirBase);
    return {
      status: 200,
      body: { resourceType: 'Bundle', type: 'transaction-response', entry: responseEntries } satisfies Bundle,
    };
  }
  const { entries: responseEntries, errors } = await processBatch(ctx, party, entries, fhirBase, limits);
  return {
    status: 200,
    body: { resourceType: 'Bundle', type: 'batch-response', entry: responseEntries } satisfies Bundle,
    ...(errors.length ? { error: errors[0] } : {}),
  };
}
