// The HTTPS server: mutual TLS 1.3 only, timeouts at every stage of a connection and limits on how many a client
// may hold (connection-guard.ts), every refused handshake and unparseable request logged and counted like a
// request, and graceful shutdown that lets in-flight requests finish.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { createGatewayContext } from '../../engine/gateway-context.js';
import { databaseFile, defaultPublicUrl, type GatewayConfig } from '../config.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { initDevPki } from '../../engine/pki/dev-pki.js';
import { loadPkiFiles, serverTlsOptions } from '../../engine/pki/tls-options.js';
import { PgStore } from '../../engine/storage/pg-store.js';
import { SqliteStore } from '../../engine/storage/sqlite-store.js';
import type { Store } from '../../engine/storage/store.js';
import { PROJECT_ROOT } from '../../base/project.js';
import { setTimeOffset } from '../../base/clock.js';
import { issue, toOperationOutcome } from '../../base/outcome.js';
import { startBuildPool } from '../../services/documents/build-pool.js';
import { createExpressApp } from './express-app.js';
import { createOpenApiCheck } from './openapi-check.js';
import { ConnectionGuard } from './connection-guard.js';

export interface RunningGateway {
  server: Server;
  port: number;
  url: string;
  pkiDir: string;
  /** the base Location headers and Bundle links are built from (KAIGO_PUBLIC_URL, or https://host:port) */
  publicUrl: string;
  store: Store;
  /** Stop accepting, finish in-flight requests, close the store. */
  shutdown(): Promise<void>;
}

export async function startGateway(
  cfg: GatewayConfig,
  /** root: the folder holding mappings/, profiles/ and openapi.yaml (default: this project's own) */
  opts: { logger?: Logger; store?: Store; root?: string } = {},
): Promise<RunningGateway> {
  const root = opts.root ?? PROJECT_ROOT;
  const logger = opts.logger ?? createLogger();
  setTimeOffset(cfg.timeOffset);
  let pkiDir = cfg.pkiDir;
  if (pkiDir === undefined) {
    // No PKI configured: make a development one beside the data, once, and say where it is.
    pkiDir = join(cfg.dataDir, 'pki');
    const created = !existsSync(join(pkiDir, 'ca.crt'));
    await initDevPki(pkiDir);
    if (created) logger.warn({ pkiDir }, 'no KAIGO_PKI_DIR set: created a development PKI (not for production)');
  }
  const store =
    opts.store ?? (cfg.databaseUrl ? await PgStore.connect(cfg.databaseUrl) : new SqliteStore(databaseFile(cfg)));
  const metrics = createMetrics();
  // The document-building workers load their forms and profiles while the main thread loads its own.
  const [ctx, pool] = await Promise.all([
    createGatewayContext(store, { root }),
    cfg.workers > 0 ? startBuildPool(root, cfg.workers) : undefined,
  ]);
  if (pool) ctx.builder = pool;
  ctx.events = { stored: (form) => metrics.documentsStored.inc({ form }) };
  const checkRequest = await createOpenApiCheck(join(root, 'openapi.yaml'));
  let shuttingDown = false;
  const inFlight = { count: 0 };
  let publicUrl = cfg.publicUrl ?? '';
  const cc = cfg.connections;
  const app = createExpressApp({
    ctx,
    logger,
    metrics,
    inFlight,
    isShuttingDown: () => shuttingDown,
    handleOptions: { checkRequest },
    publicUrl: () => publicUrl,
    limits: cfg.limits,
    bodyTimeoutMs: cc.bodyTimeoutMs,
  });
  const server = createServer(
    {
      ...serverTlsOptions(loadPkiFiles(pkiDir)),
      handshakeTimeout: cc.handshakeTimeoutMs,
      headersTimeout: cc.headersTimeoutMs,
      // Node's own whole-request timeout is only the backstop: the body reader refuses a slow body first, with an
      // OperationOutcome, bodyTimeoutMs after the headers.
      requestTimeout: cc.headersTimeoutMs + cc.bodyTimeoutMs + 1_000,
      connectionsCheckingInterval: Math.min(1_000, cc.headersTimeoutMs),
      // Location and links come from the public URL, never from Host: a request without one is served, not refused
      // by Node before it could be logged.
      requireHostHeader: false,
    },
    app,
  );
  server.keepAliveTimeout = cc.keepAliveTimeoutMs;
  const guard = new ConnectionGuard(cc, (e) => {
    metrics.connectionsLimited.inc({ reason: e.reason, scope: e.scope });
    refusedConnection(
      logger,
      metrics,
      e.reason === 'evicted' ? 'evicted: an unfinished handshake made room' : `connection limit (${e.scope})`,
    );
  });
  guard.attach(server);
  metrics.countConnectionsWith(() => guard.counts());
  server.on('tlsClientError', (err: Error & { code?: string }, tls: TLSSocket) => {
    if (guard.closedHere(tls)) return; // already logged and counted as a connection-limit refusal
    const reason = err.code ?? err.message;
    metrics.tlsRejected.inc({ reason });
    const status = tlsRefusalStatus(err.code);
    const requestId = randomUUID();
    metrics.requests.inc({ method: 'TLS', route: 'tls-handshake', status: String(status) });
    logger.warn({ requestId, route: 'tls-handshake', status, reason }, 'TLS handshake refused');
  });
  // https.Server passes TLS errors on to 'clientError' too: only a connection past its handshake can take an HTTP
  // answer; the others are tlsClientError's (above), and are closed.
  const secured = new WeakSet<Socket>();
  server.on('secureConnection', (tls: TLSSocket) => secured.add(tls));
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (!secured.has(socket)) socket.destroy();
    else answerClientError(err, socket, logger, metrics);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`;
  publicUrl = cfg.publicUrl ?? defaultPublicUrl(cfg.host, port);
  logger.info({ url, publicUrl, store: store.kind, workers: pool?.size ?? 0 }, 'kaigo-gateway listening');

  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (closing ??= (async () => {
      shuttingDown = true;
      logger.info({ inFlight: inFlight.count }, 'shutting down: finishing in-flight requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + cfg.shutdownGraceMs;
      while (inFlight.count > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      server.closeAllConnections();
      guard.closeAll(); // connections still in their TLS handshake are not the HTTP server's to close
      await closed;
      await pool?.close();
      await store.close();
      logger.info('stopped');
    })());
  return { server, port, url, pkiDir, publicUrl, store, shutdown };
}

/**
 * The status a refused handshake is logged and counted with. TLS has no status codes; these are nginx's for the
 * same situations, so dashboards read them the same way: 495 a certificate that does not verify, 496 none sent,
 * 497 plain HTTP on the TLS port, 408 a handshake not finished in time, 499 the client gave up.
 */
export function tlsRefusalStatus(code: string | undefined): number {
  switch (code) {
    case 'ERR_TLS_HANDSHAKE_TIMEOUT':
      return 408;
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 496;
    case 'ERR_SSL_HTTP_REQUEST':
      return 497;
    case 'ECONNRESET':
    case 'EPIPE':
      return 499;
    default:
      return code !== undefined && /CERT|VERIFY|SIGNATURE|ISSUER|REVOKED|CRL|CA_/.test(code) ? 495 : 400;
  }
}

/** A connection closed by the limits is logged once, as a refused handshake with 503. */
function refusedConnection(logger: Logger, metrics: Metrics, reason: string): void {
  metrics.requests.inc({ method: 'TLS', route: 'tls-handshake', status: '503' });
  logger.warn({ requestId: randomUUID(), route: 'tls-handshake', status: 503, reason }, 'connection refused');
}

/**
 * Requests Node refuses before express sees them (headers that never finish in time, headers too large, bytes
 * that are not HTTP): answered with an OperationOutcome, an X-Request-Id and a log line, instead of Node's bare
 * status line. When a response is already under way, the request's own log line covers it.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket, logger: Logger, metrics: Metrics): void {
  const inFlight = (socket as Socket & { _httpMessage?: unknown })._httpMessage !== undefined;
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || inFlight || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message =
    status === 408
      ? 'the request headers did not arrive in time'
      : status === 431
        ? 'the request headers are too large'
        : `the request is not valid HTTP (${err.code ?? err.message})`;
  const requestId = randomUUID();
  const body = JSON.stringify(toOperationOutcome([issue(status === 408 ? 'timeout' : 'structure', message)]));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/fhir+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
  metrics.requests.inc({ method: 'unknown', route: 'unmatched', status: String(status) });
  logger.warn(
    { requestId, route: 'unmatched', status, reason: err.code ?? err.message },
    'request refused by the HTTP parser',
  );
}
