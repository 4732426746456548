// The thin express adapter: read the body a route takes (its media type first, then its bytes within the route's
// limit), hand a GatewayRequest to the router, write the GatewayResponse back. Health, readiness and metrics live
// here because they are about the process, not about FHIR. Every request is logged and counted once
// (request-log.ts), refusals before the router included.
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { normalizeError, OperationOutcomeError } from '../../base/outcome.js';
import type { GatewayRequest } from '../../api/request.js';
import type { RequestLimits } from '../../api/limits.js';
import { checkMediaType, decodeBody, formValue } from '../../api/request-body.js';
import type { QueryParams } from '../../engine/search/search-query.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { bodySpecFor, handle, type HandleOptions } from '../../api/router.js';
import { ClientGone, drainBody, hasBody, readBody } from './body-reader.js';
import { locals, requestLog } from './request-log.js';

export interface AppDeps {
  ctx: GatewayContext;
  logger: Logger;
  metrics: Metrics;
  handleOptions?: HandleOptions;
  /** counts requests being handled, for graceful shutdown */
  inFlight: { count: number };
  isShuttingDown: () => boolean;
  /** the gateway's public base URL (KAIGO_PUBLIC_URL), e.g. https://kaigo-gw.example.jp: Location and links */
  publicUrl: () => string;
  limits: RequestLimits;
  /** how long a request body may take to arrive once its headers are in */
  bodyTimeoutMs: number;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Reads and decodes the body the route takes; undefined when the route takes none or none was sent. */
async function requestBody(req: IncomingMessage & { path: string }, deps: AppDeps): Promise<unknown> {
  const route = bodySpecFor(req.method ?? '', req.path);
  if (!route || !hasBody(req)) return undefined;
  checkMediaType(route.spec, req.headers['content-type'], req.headers['content-encoding']);
  const bytes = await readBody(req, deps.limits.bodyBytes[route.spec.size], deps.bodyTimeoutMs);
  return decodeBody(route.spec, bytes, deps.limits, route.root);
}

export function createExpressApp(deps: AppDeps): express.Express {
  const { ctx, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // The query is decoded by formValue below (refusing bad percent-encoding), not by express.
  app.set('query parser', () => ({}));

  app.use(requestLog(deps.logger, metrics));
  app.use((_req: Request, res: Response, next: NextFunction) => {
    deps.inFlight.count++;
    res.once('close', () => deps.inFlight.count--);
    if (deps.isShuttingDown()) res.setHeader('Connection', 'close');
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      if (deps.isShuttingDown()) throw new Error('shutting down');
      await ctx.store.ping();
      res.json({ status: 'ready', store: ctx.store.kind });
    } catch {
      res.status(503).json({ status: 'not ready' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use(async (req: Request, res: Response) => {
    const { party } = locals(res);
    const q = req.originalUrl.indexOf('?');
    const query = q < 0 ? {} : formValue(req.originalUrl.slice(q + 1), deps.limits, 'query');
    // Without a party the router answers 401 whatever the body holds: it is not read.
    const body = party ? await requestBody(req, deps) : undefined;
    const greq: GatewayRequest = {
      method: req.method,
      path: req.path,
      query: query as QueryParams,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
      ),
      body,
      ...(party ? { party } : {}),
      fhirBase: `${deps.publicUrl()}/fhir`,
      limits: deps.limits,
    };
    const out = await handle(ctx, greq, { ...deps.handleOptions, limits: deps.limits });
    const error = (out as { error?: unknown }).error;
    if (error !== undefined) locals(res).error = error;
    // A body the route did not read (401, 404, 405…) is drained first, or the connection closed after the answer.
    if (!req.complete && !(await drainBody(req))) res.setHeader('Connection', 'close');
    res.status(out.status);
    for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
    if (out.body === undefined) return void res.end();
    if (Buffer.isBuffer(out.body)) return void res.send(out.body); // e.g. a care-plan CSV file; its Content-Type is in out.headers
    const isFhir =
      req.path.startsWith('/fhir') || (out.body as { resourceType?: string }).resourceType === 'OperationOutcome';
    res.setHeader('Content-Type', isFhir ? FHIR_JSON : 'application/json; charset=utf-8');
    res.send(JSON.stringify(out.body));
  });

  // Refusals before the router (media type, size, timeout, undecodable body) and anything unexpected arrive here.
  app.use(async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ClientGone || res.headersSent) return void res.destroy();
    const e = err instanceof OperationOutcomeError ? err : normalizeError(err);
    if (e.status >= 500) locals(res).error = err;
    // The rest of a refused body is read and thrown away (within DRAIN_LIMIT) so the client hears the answer; a
    // body that timed out, or is too much even for that, is not: the connection closes after the answer.
    if (!req.complete && (e.status === 408 || !(await drainBody(req)))) res.setHeader('Connection', 'close');
    res
      .status(e.status)
      .setHeader('Content-Type', FHIR_JSON)
      .send(JSON.stringify(e.outcomeWithin(deps.limits.outcome)));
  });
  return app;
}
