// The HTTPS server: mutual TLS 1.3 only, graceful shutdown that lets in-flight requests finish.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { createGatewayContext } from '../../engine/gateway-context.js';
import { databaseFile, type GatewayConfig } from '../config.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createMetrics } from '../ops/metrics.js';
import { initDevPki } from '../../engine/pki/dev-pki.js';
import { loadPkiFiles, serverTlsOptions } from '../../engine/pki/tls-options.js';
import { PgStore } from '../../engine/storage/pg-store.js';
import { SqliteStore } from '../../engine/storage/sqlite-store.js';
import type { Store } from '../../engine/storage/store.js';
import { PROJECT_ROOT } from '../../base/project.js';
import { startBuildPool } from '../../services/documents/build-pool.js';
import { createExpressApp } from './express-app.js';
import { createOpenApiCheck } from './openapi-check.js';

export interface RunningGateway {
  server: Server;
  port: number;
  url: string;
  pkiDir: string;
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
  const app = createExpressApp({
    ctx,
    logger,
    metrics,
    inFlight,
    isShuttingDown: () => shuttingDown,
    handleOptions: { checkRequest },
  });
  const server = createServer(serverTlsOptions(loadPkiFiles(pkiDir)), app);
  server.on('tlsClientError', (err: Error & { code?: string }) => {
    metrics.tlsRejected.inc({ reason: err.code ?? 'unknown' });
    logger.warn({ reason: err.code ?? err.message }, 'TLS handshake refused');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`;
  logger.info({ url, store: store.kind, workers: pool?.size ?? 0 }, 'kaigo-gateway listening');

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
      await closed;
      await pool?.close();
      await store.close();
      logger.info('stopped');
    })());
  return { server, port, url, pkiDir, store, shutdown };
}
