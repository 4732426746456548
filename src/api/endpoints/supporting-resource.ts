// Patient, Practitioner and Organization created through the REST API (POST /fhir/{type} or a Bundle entry): the
// caller's own supporting resources. What R4 and the gateway require of one, in the order a client hears about it:
// who may create it (and an Organization may only name itself by the caller's own 医療機関コード / 保険者番号 /
// 介護事業所番号), then the content (R4 validation, and every reference of an R4 shape), then, inside the store
// transaction, the conditional create and whether every reference resolves.
import type { Identifier, Resource } from 'fhir/r4.js';
import { partyKey, type Party } from '../../base/party.js';
import { collectReferences, referenceShape } from '../../base/references.js';
import {
  badRequest,
  issue,
  OperationOutcomeError,
  preconditionFailed,
  throwIfErrors,
  type Issue,
} from '../../base/outcome.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { StoreTx, StoredRecord } from '../../engine/storage/store.js';
import { indexResource } from '../../engine/search/search-parameters.js';

export const SUPPORTING_TYPES: ReadonlySet<string> = new Set(['Patient', 'Practitioner', 'Organization']);

export interface PreparedSupporting {
  type: string;
  /** the path root of issues about it: `Patient`, or `Bundle.entry[3].resource` */
  where: string;
  /** what will be stored, without id (the server assigns it) */
  resource: Resource;
  /** If-None-Exist, parsed */
  condition?: { system: string; value: string };
}

export interface CreateOutcome {
  status: 200 | 201;
  resource: Resource & { id: string; meta: { versionId: string; lastUpdated: string } };
  location: string;
}

export function assertResource(body: unknown, type: string, where: string): asserts body is Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('the body must be a FHIR resource (a JSON object)', where);
  const rt = (body as { resourceType?: unknown }).resourceType;
  if (rt !== type)
    throw badRequest(`resourceType is ${JSON.stringify(rt)}; this endpoint takes ${type}`, `${where}.resourceType`);
}

/** Parses If-None-Exist; only `identifier=system|value` is supported (the business identifier). */
export function parseIfNoneExist(header: string, where = 'If-None-Exist'): { system: string; value: string } {
  const sp = new URLSearchParams(header.replace(/^.*\?/, ''));
  const raw = sp.get('identifier');
  const keys = [...sp.keys()];
  if (raw === null || keys.length !== 1 || !raw.includes('|'))
    throw badRequest('If-None-Exist supports identifier=system|value only', where);
  const bar = raw.indexOf('|');
  const system = raw.slice(0, bar);
  const value = raw.slice(bar + 1);
  if (system === '' || value === '') throw badRequest('If-None-Exist needs both a system and a value', where);
  return { system, value };
}

/** The identifiers an Organization names itself by: its own identifier list and valueIdentifier extensions. */
function ownNames(
  type: string,
  body: Resource,
  where: string,
): Array<{ system: string; value: string; where: string }> {
  if (type !== 'Organization') return [];
  const out: Array<{ system: string; value: string; where: string }> = [];
  const add = (id: unknown, at: string): void => {
    const { system, value } = (id ?? {}) as Identifier;
    if (typeof system === 'string' && typeof value === 'string') out.push({ system, value, where: at });
  };
  const o = body as { identifier?: unknown; extension?: unknown };
  if (Array.isArray(o.identifier)) o.identifier.forEach((id, i) => add(id, `${where}.identifier[${i}]`));
  if (Array.isArray(o.extension))
    o.extension.forEach((x, i) =>
      add((x as { valueIdentifier?: unknown })?.valueIdentifier, `${where}.extension[${i}].valueIdentifier`),
    );
  return out;
}

/** Reference strings that are none of the R4 forms, or urn:uuid outside a Bundle. */
function referenceShapeIssues(body: Resource, where: string, inBundle: boolean): Issue[] {
  const out: Issue[] = [];
  for (const { path, reference } of collectReferences(body, where)) {
    const shape = referenceShape(reference);
    if ('problem' in shape)
      out.push(issue('invalid', `reference ${JSON.stringify(reference)}: ${shape.problem}`, path));
    else if (shape.kind === 'urn-uuid' && !inBundle)
      out.push(
        issue('invalid', `reference ${reference}: a urn:uuid only resolves to an entry of a transaction Bundle`, path),
      );
    // R4 (references.html): a bare "#" is how a contained resource refers back to its container; anywhere else it
    // would make the resource refer to itself.
    else if (shape.kind === 'contained' && shape.id === '' && !path.includes('.contained['))
      out.push(
        issue('invalid', 'reference "#" refers to the containing resource: only a contained resource may use it', path),
      );
  }
  return out;
}

const rebase = (issues: Issue[], type: string, where: string): Issue[] =>
  where === type
    ? issues
    : issues.map((i) =>
        i.expression !== undefined && (i.expression === type || i.expression.startsWith(`${type}.`))
          ? { ...i, expression: where + i.expression.slice(type.length) }
          : i,
      );

/**
 * Everything about one supporting resource that needs no store: policy, names, R4 validation, reference shapes.
 * Throws the OperationOutcome a client gets (403, 422 with every issue, 400).
 */
export function prepareSupporting(
  ctx: GatewayContext,
  party: Party,
  type: string,
  body: unknown,
  opts: { where: string; ifNoneExist?: string | undefined; ifNoneExistWhere?: string; inBundle: boolean },
): PreparedSupporting {
  const { where } = opts;
  assertResource(body, type, where);
  ctx.policy.enforce(party, { action: 'create-supporting', resourceType: type, names: ownNames(type, body, where) });
  throwIfErrors([
    ...rebase(ctx.validator.validate(body), type, where),
    ...referenceShapeIssues(body, where, opts.inBundle),
  ]);
  // The server assigns id, versionId and lastUpdated; the rest of meta (profiles, security labels, tags, source) is
  // the client's and is kept.
  const { id: _clientId, meta, ...rest } = body;
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
  const resource = { ...rest, ...(Object.keys(keptMeta).length ? { meta: keptMeta } : {}) } as Resource;
  const prepared: PreparedSupporting = { type, where, resource };
  if (opts.ifNoneExist !== undefined)
    prepared.condition = parseIfNoneExist(opts.ifNoneExist, opts.ifNoneExistWhere ?? 'If-None-Exist');
  return prepared;
}

/**
 * The caller's own resource the condition names, if any. Ownership, not visibility (so not a policy question):
 * only the caller's own supporting resources count as existing. A Patient it may read inside another
 * organisation's document is not one it can reuse as its own.
 */
export async function conditionalMatch(
  tx: StoreTx,
  party: Party,
  p: PreparedSupporting,
): Promise<StoredRecord | undefined> {
  if (!p.condition) return undefined;
  const { system, value } = p.condition;
  await tx.lock(`${p.type}|${system}|${value}`);
  const mine: StoredRecord[] = [];
  for (const id of await tx.findByIdentifier(p.type, system, value)) {
    const rec = await tx.read(p.type, id);
    if (rec && rec.access.author === partyKey(party)) mine.push(rec);
  }
  if (mine.length > 1) throw preconditionFailed(`If-None-Exist matched ${mine.length} ${p.type} resources`);
  return mine[0];
}

/**
 * Every reference of `resource` names something that exists: a resource created in the same transaction
 * (`created`, as Type/id), or a stored one the caller may read (one it may not read is reported exactly like a
 * missing one). A urn:uuid still in it named no entry of its Bundle. Contained (#id) references are R4's ref-1,
 * checked by the validator; absolute URLs point outside the gateway.
 */
export async function checkReferencesResolve(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  resource: Resource,
  where: string,
  created: ReadonlySet<string>,
  seen: Map<string, boolean> = new Map(),
): Promise<void> {
  const issues: Issue[] = [];
  for (const { path, reference } of collectReferences(resource, where)) {
    const shape = referenceShape(reference);
    if ('problem' in shape) continue; // refused earlier
    if (shape.kind === 'urn-uuid') {
      issues.push(
        issue('not-found', `reference ${reference} names no entry of this Bundle (no entry has it as fullUrl)`, path),
      );
    } else if (shape.kind === 'relative') {
      const key = `${shape.type}/${shape.id}`;
      let ok = created.has(key) ? true : seen.get(key);
      if (ok === undefined) {
        const rec = await tx.read(shape.type, shape.id);
        ok = rec !== undefined && ctx.policy.decide(party, { action: 'read', tag: rec.access }).allowed;
        seen.set(key, ok);
      }
      if (!ok) issues.push(issue('not-found', `reference ${reference}: no such resource is stored`, path));
    }
  }
  if (issues.length) throw new OperationOutcomeError(400, issues);
}

/** Stores a prepared resource under `id` (assigned by the caller, so Bundle entries can name each other first). */
export async function storeSupporting(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  resource: Resource,
  id: string,
): Promise<CreateOutcome> {
  const withId = { ...resource, id } as Resource & { id: string };
  const stored = await tx.put({
    resource: withId,
    access: { author: partyKey(party) },
    index: indexResource(ctx.searchParams, withId),
  });
  return {
    status: 201,
    resource: stored.resource,
    location: `${stored.resource.resourceType}/${id}/_history/${stored.resource.meta.versionId}`,
  };
}

export const existingOutcome = (rec: StoredRecord): CreateOutcome => ({
  status: 200,
  resource: rec.resource,
  location: `${rec.resource.resourceType}/${rec.resource.id}/_history/${rec.resource.meta.versionId}`,
});
