// Configuration from the environment, overridable by CLI flags.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

export interface GatewayConfig {
  dataDir: string;
  /** undefined: use <dataDir>/pki and create a development PKI there on first start */
  pkiDir: string | undefined;
  port: number;
  host: string;
  /** how long graceful shutdown waits for in-flight requests */
  shutdownGraceMs: number;
  /** postgres://… to use PostgreSQL (several gateway nodes); undefined: embedded SQLite in dataDir */
  databaseUrl: string | undefined;
  /** worker threads that translate and validate submitted forms beside the I/O; 0 builds on the main thread */
  workers: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env, flags: Partial<GatewayConfig> = {}): GatewayConfig {
  const port = flags.port ?? Number(env.KAIGO_PORT ?? 8443);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`KAIGO_PORT must be a port number, got ${env.KAIGO_PORT}`);
  const workers = flags.workers ?? Number(env.KAIGO_WORKERS ?? availableParallelism());
  if (!Number.isInteger(workers) || workers < 0 || workers > 64)
    throw new Error(`KAIGO_WORKERS must be a whole number from 0 to 64, got ${env.KAIGO_WORKERS}`);
  return {
    dataDir: resolve(flags.dataDir ?? env.KAIGO_DATA_DIR ?? './data'),
    pkiDir: flags.pkiDir ?? (env.KAIGO_PKI_DIR ? resolve(env.KAIGO_PKI_DIR) : undefined),
    port,
    host: flags.host ?? env.KAIGO_HOST ?? '127.0.0.1',
    shutdownGraceMs: flags.shutdownGraceMs ?? Number(env.KAIGO_SHUTDOWN_GRACE_MS ?? 10_000),
    databaseUrl: flags.databaseUrl ?? env.KAIGO_DATABASE_URL ?? undefined,
    workers,
  };
}

export const databaseFile = (cfg: GatewayConfig): string => join(cfg.dataDir, 'kaigo-gateway.sqlite');
