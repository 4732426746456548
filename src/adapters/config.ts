// Configuration from the environment, overridable by CLI flags.
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
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env, flags: Partial<GatewayConfig> = {}): GatewayConfig {
  const port = flags.port ?? Number(env.KAIGO_PORT ?? 8443);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`KAIGO_PORT must be a port number, got ${env.KAIGO_PORT}`);
  return {
    dataDir: resolve(flags.dataDir ?? env.KAIGO_DATA_DIR ?? './data'),
    pkiDir: flags.pkiDir ?? (env.KAIGO_PKI_DIR ? resolve(env.KAIGO_PKI_DIR) : undefined),
    port,
    host: flags.host ?? env.KAIGO_HOST ?? '127.0.0.1',
    shutdownGraceMs: flags.shutdownGraceMs ?? Number(env.KAIGO_SHUTDOWN_GRACE_MS ?? 10_000),
    databaseUrl: flags.databaseUrl ?? env.KAIGO_DATABASE_URL ?? undefined,
  };
}

export const databaseFile = (cfg: GatewayConfig): string => join(cfg.dataDir, 'kaigo-gateway.sqlite');
