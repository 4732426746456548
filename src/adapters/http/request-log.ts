// One log line and one count per request, whatever answered it: the router, the adapter's own endpoints, or a
// refusal before the router (a body of the wrong media type, too large, not JSON). The line is written when the
// response has gone (or the connection closed first), with the status actually sent, so a 500 is never counted as
// something else, and it carries the request id the client was given in X-Request-Id. A 5xx line holds the error.
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import type { Party } from '../../base/party.js';
import { routeNameFor } from '../../api/router.js';
import { partyFromPeerCertificate } from '../../engine/pki/party-from-cert.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';

/** Paths the adapter itself serves (not in the router's table), logged under their own name. */
const ADAPTER_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** What the request log knows about one request, shared with the handlers through res.locals. */
export interface RequestLocals {
  requestId: string;
  /** a logger whose every line names the request */
  log: Logger;
  party: Party | undefined;
  /** the error behind a 5xx, for its log line */
  error?: unknown;
}

export const locals = (res: Response): RequestLocals => res.locals as RequestLocals;

/** The caller's own X-Request-Id when it is a safe token, else a new UUID. */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}

export function routeOf(method: string, path: string): string {
  return ADAPTER_ROUTES.has(path) ? path : routeNameFor(method, path);
}

/** HTTP status a closed-early request is logged with: nginx's "client closed request". */
export const CLIENT_CLOSED = 499;

export function requestLog(logger: Logger, metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const requestId = requestIdFor(req.headers['x-request-id']);
    const party = partyFromPeerCertificate((req.socket as TLSSocket).getPeerCertificate?.());
    Object.assign(res.locals, { requestId, log: logger.child({ requestId }), party } satisfies RequestLocals);
    res.setHeader('X-Request-Id', requestId);
    let logged = false;
    const finish = (closedEarly: boolean): void => {
      if (logged) return;
      logged = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req.method, req.path);
      const status = closedEarly ? CLIENT_CLOSED : res.statusCode;
      metrics.requests.inc({ method: req.method, route, status: String(status) });
      metrics.duration.observe({ method: req.method, route }, seconds);
      const line = {
        requestId,
        method: req.method,
        route,
        status,
        ms: Math.round(seconds * 1000),
        party: party ? `${party.kind}:${party.code}` : undefined,
      };
      const error = locals(res).error;
      if (status >= 500 && status !== CLIENT_CLOSED) logger.error({ ...line, err: error }, 'request failed');
      else if (closedEarly) logger.warn(line, 'request: client closed the connection before the response');
      else logger.info(line, 'request');
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(!res.writableFinished));
    next();
  };
}
