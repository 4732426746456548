// Timeouts at every stage of a connection and connection limits, through real sockets on loopback: idle
// connections without a certificate cannot lock a client with one out, an unfinished handshake, headers that never
// finish, a trickled body and an idle keep-alive connection are all closed in bounded time. The test opens 400 idle
// connections against caps of 300/150 (the full 5,000 against the default caps is bench/idle-connections.ts).
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { Agent, request } from 'undici';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectionGuard, type LimitEvent } from '../src/adapters/http/connection-guard.js';
import { rawExchange, startTestGateway, type TestGateway } from './support/gateway.js';

const IDLE = 400;

describe('connection timeouts and limits', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      config: {
        workers: 0,
        connections: {
          maxConnections: 300,
          maxConnectionsPerAddress: 150,
          handshakeTimeoutMs: 1500,
          headersTimeoutMs: 1000,
          bodyTimeoutMs: 1000,
          keepAliveTimeoutMs: 1000,
        },
      },
    });
  });
  after(async () => gw.stop());

  const freshClient = (): Agent =>
    new Agent({
      connect: {
        ca: readFileSync(join(gw.pkiDir, 'ca.crt')),
        cert: readFileSync(join(gw.pkiDir, 'hospital.crt')),
        key: readFileSync(join(gw.pkiDir, 'hospital.key')),
        servername: 'localhost',
      },
    });

  it(`${IDLE} idle connections without a certificate do not stop a client with one from being served within 1 s`, async () => {
    const port = Number(new URL(gw.url).port);
    const idle: Socket[] = [];
    let closedByServer = 0;
    await Promise.all(
      Array.from(
        { length: IDLE },
        () =>
          new Promise<void>((resolve) => {
            const s = connect(port, '127.0.0.1', () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => closedByServer++);
            idle.push(s);
          }),
      ),
    );
    try {
      const agent = freshClient();
      const t = performance.now();
      const r = await request(`${gw.url}/fhir/metadata`, { dispatcher: agent });
      await r.body.text();
      const ms = performance.now() - t;
      await agent.close();
      expect(r.statusCode).to.equal(200);
      expect(ms).to.be.below(1000);
      expect(closedByServer).to.be.greaterThan(0); // the oldest idle ones made room
      const m = (await request(`${gw.url}/metrics`, { dispatcher: (agent2 = freshClient()) })).body;
      const text = await m.text();
      expect(text).to.match(/kaigo_gateway_connections_limited_total\{reason="evicted",scope="address"\} [1-9]/);
    } finally {
      for (const s of idle) s.destroy();
      await agent2?.close();
    }
  });
  let agent2: Agent | undefined;

  it('an unfinished handshake is closed after the handshake timeout (1.5 s here)', async () => {
    const port = Number(new URL(gw.url).port);
    const t = performance.now();
    const ms = await new Promise<number>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write(Buffer.from([0x16, 0x03, 0x01]))); // the start of a ClientHello
      s.on('error', () => undefined);
      s.on('close', () => resolve(performance.now() - t));
    });
    expect(ms).to.be.within(1300, 3000);
  });

  it('headers that never finish: 408 OperationOutcome with an X-Request-Id after the headers timeout', async () => {
    const r = await rawExchange(gw, 'hospital', ['GET /healthz HTTP/1.1\r\nHost: x\r\n', { waitMs: 5000 }], 6000);
    expect(r.text).to.match(/^HTTP\/1\.1 408 /);
    expect(r.text).to.match(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/i);
    expect(r.text).to.include('"resourceType":"OperationOutcome"');
    expect(r.closedAfterMs).to.be.below(3500);
  });

  it('a trickled body: 408 OperationOutcome after the body timeout, logged once', async () => {
    const trickle: Array<string | { waitMs: number }> = [
      'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n',
    ];
    for (let i = 0; i < 20; i++) trickle.push(' ', { waitMs: 250 });
    const r = await rawExchange(gw, 'hospital', trickle, 8000);
    expect(r.text).to.match(/^HTTP\/1\.1 408 /);
    expect(r.text).to.include('"code":"timeout"');
    expect(r.closedAfterMs).to.be.below(3000);
    const id = /X-Request-Id: ([^\r]+)/i.exec(r.text)![1]!;
    await new Promise((res) => setTimeout(res, 50));
    expect(gw.logLines.filter((l) => l.includes(id))).to.have.length(1);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const r = await rawExchange(gw, 'hospital', ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { waitMs: 4000 }], 6000);
    expect(r.text).to.match(/^HTTP\/1\.1 200 /);
    expect(r.closedAfterMs).to.be.below(3000);
  });

  it('after all that, the gateway serves and is ready', async () => {
    const agent = freshClient();
    const r = await request(`${gw.url}/readyz`, { dispatcher: agent });
    expect(r.statusCode).to.equal(200);
    await r.body.text();
    await agent.close();
  });
});

describe('ConnectionGuard', () => {
  class FakeSocket extends EventEmitter {
    destroyed = false;
    constructor(readonly remoteAddress: string) {
      super();
    }
    destroy(): void {
      if (this.destroyed) return;
      this.destroyed = true;
      setImmediate(() => this.emit('close'));
    }
  }
  const setup = (maxConnections: number, maxConnectionsPerAddress: number) => {
    const server = new EventEmitter();
    const events: LimitEvent[] = [];
    new ConnectionGuard({ maxConnections, maxConnectionsPerAddress }, (e) => events.push(e)).attach(
      server as unknown as TlsServer,
    );
    const open = (address: string): FakeSocket => {
      const s = new FakeSocket(address);
      server.emit('connection', s);
      return s;
    };
    const handshake = (s: FakeSocket): void => void server.emit('secureConnection', { _parent: s });
    return { open, handshake, events };
  };

  it('at the address cap, the oldest unfinished handshake of that address makes room for the new connection', () => {
    const { open, events } = setup(100, 3);
    const [a, b, c] = [open('10.0.0.1'), open('10.0.0.1'), open('10.0.0.1')];
    const other = open('10.0.0.2');
    const d = open('10.0.0.1');
    expect([a.destroyed, b.destroyed, c.destroyed, d.destroyed, other.destroyed]).to.deep.equal([
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(events).to.deep.equal([{ reason: 'evicted', scope: 'address', address: '10.0.0.1' }]);
  });

  it('connections that finished their handshake are never evicted: at the cap the new one is refused', () => {
    const { open, handshake, events } = setup(100, 2);
    const a = open('10.0.0.1');
    const b = open('10.0.0.1');
    handshake(a);
    handshake(b);
    const c = open('10.0.0.1');
    expect([a.destroyed, b.destroyed, c.destroyed]).to.deep.equal([false, false, true]);
    expect(events).to.deep.equal([{ reason: 'refused', scope: 'address', address: '10.0.0.1' }]);
  });

  it('at the total cap, the oldest unfinished handshake of any address makes room', () => {
    const { open, handshake, events } = setup(3, 3);
    const a = open('10.0.0.1');
    handshake(a);
    const b = open('10.0.0.2');
    const c = open('10.0.0.3');
    const d = open('10.0.0.4');
    expect([a.destroyed, b.destroyed, c.destroyed, d.destroyed]).to.deep.equal([false, true, false, false]);
    expect(events[0]).to.deep.equal({ reason: 'evicted', scope: 'total', address: '10.0.0.2' });
  });

  it('a closed connection frees its place', async () => {
    const { open, events } = setup(100, 1);
    const a = open('10.0.0.1');
    a.destroy();
    await new Promise((r) => setImmediate(r));
    const b = open('10.0.0.1');
    expect(b.destroyed).to.equal(false);
    expect(events).to.deep.equal([]);
  });
});
