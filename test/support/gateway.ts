// Test harness: a real gateway on an ephemeral loopback port with its own data dir and development PKI, and
// undici clients that present a party's client certificate.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Agent, request } from 'undici';
import type { Party } from '../../src/base/party.js';
import { configFromEnv } from '../../src/adapters/config.js';
import { startGateway, type RunningGateway } from '../../src/adapters/http/server.js';
import { createLogger } from '../../src/adapters/ops/logger.js';
import { issueClientCertificate } from '../../src/engine/pki/dev-pki.js';
import type { Store } from '../../src/engine/storage/store.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

export interface Client {
  agent: Agent;
  get(path: string, headers?: Record<string, string>): Promise<Reply>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  postRaw(path: string, body: string, contentType: string): Promise<Reply>;
}

export interface TestGateway extends RunningGateway {
  dataDir: string;
  logLines: string[];
  client(name: string): Client;
  stop(): Promise<void>;
}

export function clientFor(url: string, pkiDir: string, name: string): Client {
  const agent = new Agent({
    connect: {
      ca: readFileSync(join(pkiDir, 'ca.crt')),
      cert: readFileSync(join(pkiDir, `${name}.crt`)),
      key: readFileSync(join(pkiDir, `${name}.key`)),
      servername: 'localhost',
    },
  });
  const send = async (
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const res = await request(`${url}${path}`, {
      method,
      dispatcher: agent,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, text };
  };
  return {
    agent,
    get: (path, headers) => send('GET', path, undefined, headers),
    post: (path, body, headers = {}) =>
      send('POST', path, JSON.stringify(body), { 'content-type': 'application/fhir+json', ...headers }),
    postRaw: (path, body, contentType) => send('POST', path, body, { 'content-type': contentType }),
  };
}

/**
 * root: a folder with its own mappings/, profiles/ and openapi.yaml to serve instead of the project's;
 * config: settings as the CLI flags would give them (limits, timeouts, connection caps, public URL).
 */
export async function startTestGateway(
  opts: { databaseUrl?: string; root?: string; config?: Parameters<typeof configFromEnv>[1]; store?: Store } = {},
): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kaigo-gw-test-'));
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  let gw: RunningGateway;
  try {
    gw = await startGateway(
      configFromEnv(
        {},
        {
          dataDir,
          port: 0,
          host: '127.0.0.1',
          shutdownGraceMs: 5000,
          ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
          ...opts.config,
        },
      ),
      {
        logger: createLogger({ level: 'info', destination: sink }),
        ...(opts.root ? { root: opts.root } : {}),
        ...(opts.store ? { store: opts.store } : {}),
      },
    );
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true }); // a gateway that did not start leaves nothing behind
    throw e;
  }
  const clients: Client[] = [];
  return {
    ...gw,
    dataDir,
    logLines,
    client(name: string) {
      const c = clientFor(gw.url, gw.pkiDir, name);
      clients.push(c);
      return c;
    },
    async stop() {
      await gw.shutdown();
      await Promise.all(clients.map((c) => c.agent.close()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Another party's certificate, signed by the gateway's development CA. */
export async function addParty(gw: { pkiDir: string }, fileBase: string, party: Party): Promise<void> {
  await issueClientCertificate(gw.pkiDir, { ...party, fileBase });
}

export const sample = (name: string): any =>
  JSON.parse(readFileSync(new URL(`../samples/shujii-ikensho/${name}.json`, import.meta.url), 'utf8'));

/**
 * Bytes written as they are on a mutual-TLS connection (as `name`, or without a client certificate), and everything
 * the gateway answers until it closes the connection (or `timeoutMs` passes). For what an HTTP client would not
 * send: a Host header of its choosing, headers that never finish, a body that trickles.
 */
export async function rawExchange(
  gw: { url: string; pkiDir: string },
  name: string | undefined,
  chunks: Array<string | Buffer | { waitMs: number }>,
  timeoutMs = 10_000,
): Promise<{ text: string; closedAfterMs: number }> {
  const { connect } = await import('node:tls');
  const u = new URL(gw.url);
  const started = performance.now();
  const socket = connect({
    host: u.hostname,
    port: Number(u.port),
    servername: 'localhost',
    ca: readFileSync(join(gw.pkiDir, 'ca.crt')),
    ...(name
      ? { cert: readFileSync(join(gw.pkiDir, `${name}.crt`)), key: readFileSync(join(gw.pkiDir, `${name}.key`)) }
      : {}),
  });
  const received: Buffer[] = [];
  let closedAt: number | undefined;
  const closed = new Promise<void>((resolve) => {
    const done = (): void => {
      closedAt ??= performance.now();
      resolve();
    };
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', done);
    socket.on('close', done);
  });
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  await Promise.race([new Promise((resolve) => socket.once('secureConnect', resolve)), closed]);
  for (const c of chunks) {
    if (closedAt !== undefined) break;
    if (typeof c === 'object' && !Buffer.isBuffer(c))
      await Promise.race([new Promise((r) => setTimeout(r, c.waitMs)), closed]);
    else socket.write(c);
  }
  await closed;
  clearTimeout(timer);
  return { text: Buffer.concat(received).toString('utf8'), closedAfterMs: (closedAt ?? performance.now()) - started };
}
