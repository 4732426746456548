// The gateway's routes as a table, and the one function that turns a GatewayRequest into a GatewayResponse.
// Every failure leaves here as an OperationOutcome with its HTTP status; nothing below knows about HTTP servers.
import type { Party } from '../base/party.js';
import {
  normalizeError,
  notFound,
  notSupported,
  toOperationOutcome,
  unauthorized,
  type Issue,
} from '../base/outcome.js';
import type { GatewayContext } from '../engine/gateway-context.js';
import { getCareplanFile, putCareplanFile } from './endpoints/careplan-csv.js';
import { postResource } from './endpoints/fhir-create.js';
import { getMetadata } from './endpoints/fhir-metadata.js';
import { readResource } from './endpoints/fhir-read.js';
import { searchFormParams, searchResources } from './endpoints/fhir-search.js';
import { checkBundleSize, processBundle } from './endpoints/fhir-transaction.js';
import { getForm, postForm } from './endpoints/forms.js';
import type { GatewayRequest, GatewayResponse } from './request.js';
import { DEFAULT_LIMITS, type RequestLimits } from './limits.js';
import type { BodySpec } from './request-body.js';

type Handler = (ctx: GatewayContext, req: GatewayRequest, party: Party, params: string[]) => Promise<GatewayResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  /** the route as written in openapi.yaml, for logs and metrics (never the concrete path: it may hold ids) */
  name: string;
  handler: Handler;
  /** the body this route takes (media type and size class); a route without one reads no body */
  body?: BodySpec;
  /** the name at the root of a path into a FHIR body: `Bundle`, or the type in the URL */
  bodyRoot?: (params: string[]) => string;
  /** checks on the parsed body that bound the work (Bundle entries), before the OpenAPI check */
  precheck?: (body: unknown, limits: RequestLimits) => void;
}

const TYPE = '([A-Z][A-Za-z]+)';
const ID = '([A-Za-z0-9\\-.]{1,64})';
const FORM = '([a-z0-9-]+)';
/** a file name of the care-plan CSV standard (ケアプランデータ連携標準仕様), e.g. UP1KYO_1370000018_43_1371000009_15_20240401100000.CSV */
const CSV_FILE = '([A-Z0-9_]{1,80}\\.CSV)';

export const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/fhir\/metadata$/, name: '/fhir/metadata', handler: (ctx) => getMetadata(ctx) },
  {
    method: 'POST',
    pattern: /^\/fhir\/?$/,
    name: '/fhir',
    handler: (ctx, req, party) => processBundle(ctx, party, req.body, req.limits ?? DEFAULT_LIMITS, req.fhirBase),
    body: { kind: 'fhir-json', size: 'bundle' },
    bodyRoot: () => 'Bundle',
    precheck: checkBundleSize,
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/fhir/${TYPE}$`),
    name: '/fhir/{type}',
    handler: (ctx, req, party, [type]) => searchResources(ctx, party, type!, req.query, req.fhirBase),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/fhir/${TYPE}/_search$`),
    name: '/fhir/{type}/_search',
    handler: (ctx, req, party, [type]) => searchResources(ctx, party, type!, searchFormParams(req), req.fhirBase),
    body: { kind: 'form-urlencoded', size: 'search' },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/fhir/${TYPE}$`),
    name: '/fhir/{type}',
    handler: (ctx, req, party, [type]) => postResource(ctx, party, type!, req),
    body: { kind: 'fhir-json', size: 'resource' },
    bodyRoot: ([type]) => type!,
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/fhir/${TYPE}/${ID}$`),
    name: '/fhir/{type}/{id}',
    handler: (ctx, _req, party, [type, id]) => readResource(ctx, party, type!, id!),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/forms/${FORM}$`),
    name: '/forms/{form}',
    handler: (ctx, req, party, [form]) => postForm(ctx, party, form!, req.body),
    body: { kind: 'payload-json', size: 'form' },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/forms/${FORM}/${ID}$`),
    name: '/forms/{form}/{id}',
    handler: (ctx, _req, party, [form, id]) => getForm(ctx, party, form!, id!),
  },
  {
    method: 'PUT',
    pattern: new RegExp(`^/careplan-csv/${CSV_FILE}$`),
    name: '/careplan-csv/{file}',
    handler: (ctx, req, party, [file]) => putCareplanFile(ctx, party, file!, req.body),
    body: { kind: 'sjis-csv', size: 'csv' },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/careplan-csv/${CSV_FILE}$`),
    name: '/careplan-csv/{file}',
    handler: (ctx, _req, party, [file]) => getCareplanFile(ctx, party, file!),
  },
];

export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: string[] } | { allowed: string[] } | undefined {
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method === method) return { route, params: m.slice(1) };
    allowed.push(route.method);
  }
  return allowed.length ? { allowed } : undefined;
}

/** The body a request to `method path` may carry, and the root name of paths into it; undefined: read none. */
export function bodySpecFor(method: string, path: string): { spec: BodySpec; root: string } | undefined {
  const m = matchRoute(method, path);
  if (!m || !('route' in m) || !m.route.body) return undefined;
  return { spec: m.route.body, root: m.route.bodyRoot?.(m.params) ?? '' };
}

/** The route template a request is counted and logged under ('unmatched' when none). */
export function routeNameFor(method: string, path: string): string {
  const m = matchRoute(method, path);
  return m && 'route' in m ? m.route.name : 'unmatched';
}

export interface HandleOptions {
  /** Checks the request against openapi.yaml before any handler runs; returns problems (empty = fine). */
  checkRequest?: (req: GatewayRequest) => Issue[];
  /** defaults to DEFAULT_LIMITS */
  limits?: RequestLimits;
}

/** Route one request. Never throws: every error becomes an OperationOutcome response. */
export async function handle(
  ctx: GatewayContext,
  req: GatewayRequest,
  opts: HandleOptions = {},
): Promise<GatewayResponse & { route: string }> {
  let routeName = 'unmatched';
  const limits = opts.limits ?? req.limits ?? DEFAULT_LIMITS;
  try {
    const match = matchRoute(req.method, req.path);
    if (!match) throw notFound(`no endpoint ${req.method} ${req.path}`);
    if ('allowed' in match) throw notSupported(`${req.method} is not allowed here; use ${match.allowed.join(', ')}`);
    routeName = match.route.name;
    // Deny by default: without a party named by the client certificate nothing is served.
    if (!req.party)
      throw unauthorized(
        'the client certificate names no party (subjectAltName urn:kaigo-gateway:party:<kind>:<code>)',
      );
    if (req.body !== undefined) match.route.precheck?.(req.body, limits);
    const problems = opts.checkRequest?.(req) ?? [];
    if (problems.length) return { status: 400, body: toOperationOutcome(problems, limits.outcome), route: routeName };
    const out = await match.route.handler(ctx, { ...req, limits }, req.party, match.params);
    return { ...out, route: routeName };
  } catch (err) {
    const e = normalizeError(err);
    return {
      status: e.status,
      body: e.outcomeWithin(limits.outcome),
      route: routeName,
      ...(e.status >= 500 ? { error: err } : {}),
    };
  }
}
