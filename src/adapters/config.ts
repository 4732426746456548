// Configuration from the environment, overridable by CLI flags. Every variable has a default that runs without any
// other service; the limits, timeouts and connection caps are documented in docs/OPERATIONS.md.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseOffset } from '../base/clock.js';
import { DEFAULT_LIMITS, type BodyClass, type RequestLimits } from '../api/limits.js';

/** How long a connection may take at each stage, and how many a client may hold (adapters/http/server.ts). */
export interface ConnectionConfig {
  /** TCP accepted → TLS handshake finished */
  handshakeTimeoutMs: number;
  /** TLS finished (or the previous response sent) → request headers complete */
  headersTimeoutMs: number;
  /** request headers complete → whole body received */
  bodyTimeoutMs: number;
  /** idle keep-alive connection between requests */
  keepAliveTimeoutMs: number;
  /** open connections in all; at the cap a new one replaces the oldest that has not finished its handshake */
  maxConnections: number;
  /** the same, per client IP address */
  maxConnectionsPerAddress: number;
}

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
  /**
   * The gateway's address as clients know it, e.g. https://kaigo-gw.example.jp (KAIGO_PUBLIC_URL): Location headers
   * and Bundle links are built from it, never from the request's Host header. undefined: https://<host>:<port>.
   */
  publicUrl: string | undefined;
  /** the offset of every instant the gateway writes (KAIGO_TIME_OFFSET, default +09:00), whatever the machine's TZ */
  timeOffset: string;
  limits: RequestLimits;
  connections: ConnectionConfig;
}

export const DEFAULT_CONNECTIONS: ConnectionConfig = {
  handshakeTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4_096,
  maxConnectionsPerAddress: 1_024,
};

type Flags = Partial<Omit<GatewayConfig, 'limits' | 'connections'>> & {
  limits?: Partial<Omit<RequestLimits, 'bodyBytes' | 'outcome'>> & {
    bodyBytes?: Partial<RequestLimits['bodyBytes']>;
    outcome?: Partial<RequestLimits['outcome']>;
  };
  connections?: Partial<ConnectionConfig>;
};

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${raw}`);
  return n;
}

function publicUrlFrom(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`KAIGO_PUBLIC_URL must be an absolute https URL, got ${raw}`);
  }
  if (u.protocol !== 'https:' || u.search || u.hash || u.username || u.password)
    throw new Error(`KAIGO_PUBLIC_URL must be an https URL without query, fragment or credentials, got ${raw}`);
  return u.href.replace(/\/+$/, '');
}

const BODY_ENV: Record<BodyClass, string> = {
  bundle: 'KAIGO_MAX_BODY_BUNDLE',
  resource: 'KAIGO_MAX_BODY_RESOURCE',
  form: 'KAIGO_MAX_BODY_FORM',
  search: 'KAIGO_MAX_BODY_SEARCH',
  csv: 'KAIGO_MAX_BODY_CSV',
};

function limitsFrom(env: NodeJS.ProcessEnv, flags: Flags['limits'] = {}): RequestLimits {
  const d = DEFAULT_LIMITS;
  const bodyBytes = { ...d.bodyBytes };
  for (const k of Object.keys(bodyBytes) as BodyClass[])
    bodyBytes[k] = flags.bodyBytes?.[k] ?? whole(env, BODY_ENV[k], d.bodyBytes[k], 1, 1024 ** 3);
  return {
    bodyBytes,
    jsonDepth: flags.jsonDepth ?? whole(env, 'KAIGO_MAX_JSON_DEPTH', d.jsonDepth, 8, 10_000),
    bundleEntries: flags.bundleEntries ?? whole(env, 'KAIGO_MAX_BUNDLE_ENTRIES', d.bundleEntries, 1, 1_000_000),
    formParams: flags.formParams ?? whole(env, 'KAIGO_MAX_FORM_PARAMS', d.formParams, 1, 100_000),
    outcome: {
      maxIssues: flags.outcome?.maxIssues ?? whole(env, 'KAIGO_MAX_ISSUES', d.outcome.maxIssues, 1, 100_000),
      maxDiagnostics: flags.outcome?.maxDiagnostics ?? d.outcome.maxDiagnostics,
    },
  };
}

function connectionsFrom(env: NodeJS.ProcessEnv, flags: Partial<ConnectionConfig> = {}): ConnectionConfig {
  const d = DEFAULT_CONNECTIONS;
  const ms = (name: string, v: number | undefined, fallback: number): number =>
    v ?? whole(env, name, fallback, 100, 3_600_000);
  const c: ConnectionConfig = {
    handshakeTimeoutMs: ms('KAIGO_HANDSHAKE_TIMEOUT_MS', flags.handshakeTimeoutMs, d.handshakeTimeoutMs),
    headersTimeoutMs: ms('KAIGO_HEADERS_TIMEOUT_MS', flags.headersTimeoutMs, d.headersTimeoutMs),
    bodyTimeoutMs: ms('KAIGO_BODY_TIMEOUT_MS', flags.bodyTimeoutMs, d.bodyTimeoutMs),
    keepAliveTimeoutMs: ms('KAIGO_KEEP_ALIVE_TIMEOUT_MS', flags.keepAliveTimeoutMs, d.keepAliveTimeoutMs),
    maxConnections: flags.maxConnections ?? whole(env, 'KAIGO_MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
    maxConnectionsPerAddress:
      flags.maxConnectionsPerAddress ??
      whole(env, 'KAIGO_MAX_CONNECTIONS_PER_ADDRESS', d.maxConnectionsPerAddress, 1, 1_000_000),
  };
  if (c.maxConnectionsPerAddress > c.maxConnections) c.maxConnectionsPerAddress = c.maxConnections;
  return c;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env, flags: Flags = {}): GatewayConfig {
  const port = flags.port ?? Number(env.KAIGO_PORT ?? 8443);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`KAIGO_PORT must be a port number, got ${env.KAIGO_PORT}`);
  const workers = flags.workers ?? Number(env.KAIGO_WORKERS ?? availableParallelism());
  if (!Number.isInteger(workers) || workers < 0 || workers > 64)
    throw new Error(`KAIGO_WORKERS must be a whole number from 0 to 64, got ${env.KAIGO_WORKERS}`);
  const timeOffset = flags.timeOffset ?? (env.KAIGO_TIME_OFFSET || '+09:00');
  if (parseOffset(timeOffset) === undefined)
    throw new Error(`KAIGO_TIME_OFFSET must be an offset like +09:00 or Z, got ${timeOffset}`);
  return {
    dataDir: resolve(flags.dataDir ?? env.KAIGO_DATA_DIR ?? './data'),
    pkiDir: flags.pkiDir ?? (env.KAIGO_PKI_DIR ? resolve(env.KAIGO_PKI_DIR) : undefined),
    port,
    host: flags.host ?? env.KAIGO_HOST ?? '127.0.0.1',
    shutdownGraceMs: flags.shutdownGraceMs ?? Number(env.KAIGO_SHUTDOWN_GRACE_MS ?? 10_000),
    databaseUrl: flags.databaseUrl ?? env.KAIGO_DATABASE_URL ?? undefined,
    workers,
    publicUrl: publicUrlFrom(flags.publicUrl ?? env.KAIGO_PUBLIC_URL),
    timeOffset,
    limits: limitsFrom(env, flags.limits),
    connections: connectionsFrom(env, flags.connections),
  };
}

export const databaseFile = (cfg: GatewayConfig): string => join(cfg.dataDir, 'kaigo-gateway.sqlite');

/** https://<host>:<port> as a default public URL (a wildcard listen address is reached as localhost). */
export function defaultPublicUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host;
  return `https://${h.includes(':') ? `[${h}]` : h}:${port}`;
}
