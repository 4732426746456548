// The thin express adapter: parse JSON, name the caller from its certificate, hand a GatewayRequest to the
// router, write the GatewayResponse back. Health, readiness and metrics live here because they are about the
// process, not about FHIR.
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import { badRequest, issue, normalizeError, OperationOutcomeError } from '../../base/outcome.js';
import type { GatewayRequest } from '../../api/request.js';
import type { QueryParams } from '../../engine/search/search-query.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { partyFromPeerCertificate } from '../../engine/pki/party-from-cert.js';
import { handle, type HandleOptions } from '../../api/router.js';

export interface AppDeps {
  ctx: GatewayContext;
  logger: Logger;
  metrics: Metrics;
  handleOptions?: HandleOptions;
  /** counts requests being handled, for graceful shutdown */
  inFlight: { count: number };
  isShuttingDown: () => boolean;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function createExpressApp(deps: AppDeps): express.Express {
  const { ctx, logger, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use((_req: Request, res: Response, next: NextFunction) => {
    deps.inFlight.count++;
    res.once('close', () => deps.inFlight.count--);
    if (deps.isShuttingDown()) res.setHeader('Connection', 'close');
    next();
  });
  app.use(
    express.json({
      type: ['application/json', 'application/fhir+json', 'application/*+json'],
      limit: '10mb',
      strict: false,
    }),
  );
  app.use(express.urlencoded({ extended: false, limit: '1mb' })); // POST /fhir/{type}/_search
  app.use(express.raw({ type: ['text/csv'], limit: '50mb' })); // PUT /careplan-csv/{file}: Shift-JIS bytes, decoded by the handler

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
    const started = process.hrtime.bigint();
    const requestId =
      typeof req.headers['x-request-id'] === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(req.headers['x-request-id'])
        ? req.headers['x-request-id']
        : randomUUID();
    const party = partyFromPeerCertificate((req.socket as TLSSocket).getPeerCertificate?.());
    const greq: GatewayRequest = {
      method: req.method,
      path: req.path,
      query: req.query as QueryParams,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
      ),
      body: req.body,
      ...(party ? { party } : {}),
      fhirBase: `https://${req.headers.host ?? 'localhost'}/fhir`,
    };
    const out = await handle(ctx, greq, deps.handleOptions);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.requests.inc({ method: req.method, route: out.route, status: String(out.status) });
    metrics.duration.observe({ method: req.method, route: out.route }, seconds);
    const log = {
      requestId,
      method: req.method,
      route: out.route,
      status: out.status,
      ms: Math.round(seconds * 1000),
      party: party ? `${party.kind}:${party.code}` : undefined,
    };
    if (out.status >= 500) logger.error({ ...log, err: (out as { error?: unknown }).error }, 'request failed');
    else logger.info(log, 'request');
    res.status(out.status);
    res.setHeader('X-Request-Id', requestId);
    for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
    if (out.body === undefined) return void res.end();
    if (Buffer.isBuffer(out.body)) return void res.send(out.body); // e.g. a care-plan CSV file; its Content-Type is in out.headers
    const isFhir =
      req.path.startsWith('/fhir') || (out.body as { resourceType?: string }).resourceType === 'OperationOutcome';
    res.setHeader('Content-Type', isFhir ? FHIR_JSON : 'application/json; charset=utf-8');
    res.send(JSON.stringify(out.body));
  });

  // Body-parser failures (malformed JSON, too large, wrong charset) arrive here: answer with an OperationOutcome.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status;
    const message = `request body: ${(err as Error).message}`;
    const e =
      status === 413
        ? new OperationOutcomeError(413, [issue('too-costly', message)])
        : status && status >= 400 && status < 500
          ? badRequest(message)
          : normalizeError(err);
    if (e.status >= 500) logger.error({ err }, 'unhandled error');
    res.status(e.status).setHeader('Content-Type', FHIR_JSON).send(JSON.stringify(e.outcome));
  });
  return app;
}
