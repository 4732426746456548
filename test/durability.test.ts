// Durability and shutdown of the real server process: `node bin/kaigo-gateway.js serve` as a child process.
// A 201 is a promise that the document is on disk: SIGKILL right after it and a restart must still serve it.
// SIGTERM is a graceful stop: what is in flight finishes, then the process exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { request } from 'undici';
import { clientFor, sample, type Client } from './support/gateway.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'kaigo-gateway.js');
const HOSPITAL_CODE = '1311234567';
const START_TIMEOUT_MS = 20_000;

interface ServerProcess {
  child: ChildProcess;
  url: string;
  pkiDir: string;
  output: () => string;
  /** resolves with the exit code and signal once the process has ended */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  clients: Client[];
  client(name: string): Client;
}

/** A free loopback port (closed again, so the gateway can take it). */
async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function payload(documentId: string, insuredNumber?: string): any {
  const p = sample('full');
  p.header.institution.code = HOSPITAL_CODE;
  p.header.documentId = documentId;
  if (insuredNumber !== undefined) p.header.insuredNumber = insuredNumber;
  return p;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects after `ms` with `what` in the message; otherwise the value of `p`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('durability: the real server process, killed and restarted', function () {
  this.timeout(60_000);
  let tmp: string;
  const running = new Set<ServerProcess>();

  /** Starts `kaigo-gateway serve` and resolves once it says it is listening. */
  async function serve(dataDir: string, port: number): Promise<ServerProcess> {
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'Asia/Tokyo', KAIGO_LOG_LEVEL: 'info' };
    for (const k of ['KAIGO_PORT', 'KAIGO_HOST', 'KAIGO_DATA_DIR', 'KAIGO_PKI_DIR', 'KAIGO_SHUTDOWN_GRACE_MS'])
      delete env[k];
    const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--data-dir', dataDir], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const proc: ServerProcess = {
      child,
      url: `https://127.0.0.1:${port}`,
      pkiDir: join(dataDir, 'pki'),
      output: () => `--- stderr ---\n${err}\n--- stdout ---\n${out}`,
      exited,
      clients: [],
      client(name) {
        const c = clientFor(proc.url, proc.pkiDir, name);
        proc.clients.push(c);
        return c;
      },
    };
    running.add(proc);
    void exited.then(() => {
      running.delete(proc);
      for (const c of proc.clients) void c.agent.destroy();
    });
    await within(
      new Promise<void>((resolve, reject) => {
        child.stderr!.setEncoding('utf8').on('data', (d: string) => {
          err += d;
          if (/listening/.test(err)) resolve();
        });
        void exited.then(({ code, signal }) =>
          reject(new Error(`serve exited (${code ?? signal}) before listening\n${proc.output()}`)),
        );
      }),
      START_TIMEOUT_MS,
      'kaigo-gateway serve to start listening',
    ).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw e;
    });
    return proc;
  }

  async function kill(proc: ServerProcess): Promise<void> {
    proc.child.kill('SIGKILL');
    const { signal } = await within(proc.exited, 10_000, 'SIGKILLed server to exit');
    expect(signal).to.equal('SIGKILL');
  }

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kaigo-durability-'));
  });
  afterEach(async () => {
    // A failed test must not leave a server behind.
    for (const proc of [...running]) {
      proc.child.kill('SIGKILL');
      await within(proc.exited, 10_000, 'leftover server to exit').catch(() => undefined);
    }
  });
  after(async () => {
    for (const proc of [...running]) proc.child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('SIGKILL the moment a 201 arrives: after a restart the municipality reads exactly what was sent', async () => {
    const dataDir = join(tmp, 'one');
    const port = await freePort();
    const sent = payload('IKN-DURABLE-1');

    const first = await serve(dataDir, port);
    const r = await first
      .client('hospital')
      .post('/forms/shujii-ikensho', sent, { 'content-type': 'application/json' });
    if (r.status === 201) first.child.kill('SIGKILL');
    expect(r.status, r.text).to.equal(201);
    const location = String(r.headers.location);
    expect(location).to.match(/^\/forms\/shujii-ikensho\/[0-9a-f-]{36}$/);
    await kill(first);

    const second = await serve(dataDir, port);
    const back = await second.client('municipality').get(location);
    expect(back.status, back.text).to.equal(200);
    expect(back.body).to.deep.equal(sent);
    await kill(second);
  });

  it('5 POSTs in flight at once, SIGKILL right after the last 201: all 5 are there after a restart', async () => {
    const dataDir = join(tmp, 'five');
    const port = await freePort();
    const sent = [1, 2, 3, 4, 5].map((n) => payload(`IKN-CONCURRENT-${n}`, `000555000${n}`));

    const first = await serve(dataDir, port);
    const hospital = first.client('hospital');
    let pending = sent.length;
    const replies = await Promise.all(
      sent.map(async (p) => {
        const reply = await hospital.post('/forms/shujii-ikensho', p, { 'content-type': 'application/json' });
        if (--pending === 0) first.child.kill('SIGKILL');
        return reply;
      }),
    );
    expect(
      replies.map((x) => x.status),
      replies.map((x) => x.text).join('\n'),
    ).to.deep.equal([201, 201, 201, 201, 201]);
    const locations = replies.map((x) => String(x.headers.location));
    expect(new Set(locations).size).to.equal(5);
    await kill(first);

    const second = await serve(dataDir, port);
    const municipality = second.client('municipality');
    for (let i = 0; i < sent.length; i++) {
      const back = await municipality.get(locations[i]!);
      expect(back.status, `${locations[i]}: ${back.text}`).to.equal(200);
      expect(back.body).to.deep.equal(sent[i]);
    }
    await kill(second);
  });

  it('SIGTERM while a request is in flight: the request still completes with 2xx and the process exits 0', async () => {
    const dataDir = join(tmp, 'graceful');
    const port = await freePort();
    const proc = await serve(dataDir, port);
    const hospital = proc.client('hospital');
    // Warm up (first request pays for lazy loading), so the timing below is about shutdown only.
    const warm = await hospital.post('/forms/shujii-ikensho', payload('IKN-GRACEFUL-0'), {
      'content-type': 'application/json',
    });
    expect(warm.status, warm.text).to.equal(201);

    // The request body is streamed in two halves: the server has the request (headers and half the body)
    // when SIGTERM arrives, and gets the rest only after it.
    const text = JSON.stringify(payload('IKN-GRACEFUL-1'));
    const body = new PassThrough();
    const pendingReply = request(`${proc.url}/forms/shujii-ikensho`, {
      method: 'POST',
      dispatcher: hospital.agent,
      headers: { 'content-type': 'application/json' },
      body,
    }).then(async (res) => ({ status: res.statusCode, headers: res.headers, text: await res.body.text() }));
    pendingReply.catch(() => undefined); // inspected below
    body.write(text.slice(0, Math.floor(text.length / 2)));
    await sleep(300);

    const sentAt = Date.now();
    proc.child.kill('SIGTERM');
    await sleep(300);
    expect(proc.child.exitCode, 'the process must wait for the request in flight').to.equal(null);
    body.end(text.slice(Math.floor(text.length / 2)));

    const reply = await within(pendingReply, 10_000, 'the in-flight request to complete');
    expect(reply.status, reply.text).to.be.within(200, 299);
    expect(reply.status).to.equal(201);

    const { code, signal } = await within(proc.exited, 5_000, 'the process to exit after SIGTERM');
    expect({ code, signal }, proc.output()).to.deep.equal({ code: 0, signal: null });
    expect(Date.now() - sentAt).to.be.below(5_000);
    // The server saw the request as in flight when the signal came.
    expect(proc.output()).to.match(/"inFlight":1\b[^\n]*shutting down/);

    // It was stored, not just answered: a restart serves it.
    const again = await serve(dataDir, port);
    const back = await again.client('municipality').get(String(reply.headers.location));
    expect(back.status, back.text).to.equal(200);
    expect(back.body.header.documentId).to.equal('IKN-GRACEFUL-1');
    await kill(again);
  });
});
