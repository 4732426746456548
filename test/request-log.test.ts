// Every request is logged once, with the request id the client got in X-Request-Id and the status it was sent, and
// counted in /metrics by that status: refusals before the router (bad JSON, 413, 415), a 500, and handshakes refused
// before HTTP (no client certificate) too.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { request } from 'undici';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { Store } from '../src/engine/storage/store.js';
import { startTestGateway, type Client, type TestGateway } from './support/gateway.js';

interface Line {
  level: number;
  msg: string;
  requestId?: string;
  status?: number;
  route?: string;
  err?: { message?: string };
}

describe('request log and metrics: every request once, with its id and its status', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let hospital: Client;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaigo-log-test-'));
    // A store whose search fails the way a broken disk would: the one way to make a route answer 500.
    const real = new SqliteStore(join(dir, 'db.sqlite'));
    const broken = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'search') return async () => Promise.reject(new Error('disk on fire'));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Store;
    gw = await startTestGateway({ config: { workers: 0, limits: { bodyBytes: { resource: 1024 } } }, store: broken });
    hospital = gw.client('hospital');
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const lines = (): Line[] => gw.logLines.map((l) => JSON.parse(l) as Line);
  const about = (id: string): Line[] => lines().filter((l) => l.requestId === id || JSON.stringify(l).includes(id));
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));
  const metric = async (route: string, status: number): Promise<number> => {
    const text = (await hospital.get('/metrics')).text;
    const esc = route.replace(/[{}/]/g, (c) => `\\${c}`);
    const m = new RegExp(
      `kaigo_gateway_http_requests_total\\{method="[A-Z]+",route="${esc}",status="${status}"\\} (\\d+)`,
    ).exec(text);
    return m ? Number(m[1]) : 0;
  };

  const cases: Array<[string, () => Promise<{ status: number; id: string }>, number, string]> = [
    [
      'malformed JSON (400, refused before the router)',
      async () => {
        const r = await hospital.postRaw('/fhir/Patient', '{"resourceType":', 'application/fhir+json');
        return { status: r.status, id: String(r.headers['x-request-id']) };
      },
      400,
      '/fhir/{type}',
    ],
    [
      'a body over the limit (413)',
      async () => {
        const r = await hospital.postRaw('/fhir/Patient', `{"x":"${'y'.repeat(2000)}"}`, 'application/fhir+json');
        return { status: r.status, id: String(r.headers['x-request-id']) };
      },
      413,
      '/fhir/{type}',
    ],
    [
      'a media type the route does not take (415)',
      async () => {
        const r = await hospital.postRaw('/forms/shujii-ikensho', 'a,b', 'text/csv');
        return { status: r.status, id: String(r.headers['x-request-id']) };
      },
      415,
      '/forms/{form}',
    ],
    [
      'a failing store (500)',
      async () => {
        const r = await hospital.get('/fhir/Patient?_count=1', { 'x-request-id': 'client-chosen-id-1' });
        return { status: r.status, id: String(r.headers['x-request-id']) };
      },
      500,
      '/fhir/{type}',
    ],
  ];

  for (const [what, run, status, route] of cases) {
    it(`${what}: one line with the X-Request-Id and status ${status}, counted under ${status}`, async () => {
      const before = await metric(route, status);
      const { status: got, id } = await run();
      expect(got).to.equal(status);
      expect(id).to.match(/^[A-Za-z0-9._-]{1,64}$/);
      await settle();
      const mine = about(id);
      expect(mine, JSON.stringify(mine)).to.have.length(1);
      expect(mine[0]!.requestId).to.equal(id);
      expect(mine[0]!.status).to.equal(status);
      expect(mine[0]!.route).to.equal(route);
      expect(await metric(route, status)).to.equal(before + 1);
    });
  }

  it('the 500 line is an error line holding the error, under the id the client chose', async () => {
    const line = about('client-chosen-id-1')[0]!;
    expect(line.level).to.equal(50);
    expect(line.err?.message).to.equal('disk on fire');
    const r = await hospital.get('/fhir/Patient?_count=1', { 'x-request-id': 'client-chosen-id-1' });
    expect(r.body.issue[0].diagnostics).to.not.include('disk'); // internals stay in the log
  });

  it('a handshake without a client certificate is logged once with an id and 496, and counted', async () => {
    const before = lines().filter((l) => l.route === 'tls-handshake').length;
    const u = new URL(gw.url);
    await new Promise<void>((resolve) => {
      const s = connect({
        host: u.hostname,
        port: Number(u.port),
        servername: 'localhost',
        ca: readFileSync(join(gw.pkiDir, 'ca.crt')),
      });
      s.on('secureConnect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    await settle();
    const tls = lines()
      .filter((l) => l.route === 'tls-handshake')
      .slice(before);
    expect(tls, JSON.stringify(tls)).to.have.length(1);
    expect(tls[0]!.status).to.equal(496);
    expect(tls[0]!.requestId).to.match(/^[0-9a-f-]{36}$/);
    expect(await metric('tls-handshake', 496)).to.be.greaterThan(0);
  });

  it('health checks are logged and counted like any request', async () => {
    const r = await request(`${gw.url}/healthz`, { dispatcher: hospital.agent });
    await r.body.text();
    await settle();
    expect(about(String(r.headers['x-request-id']))).to.have.length(1);
  });
});
