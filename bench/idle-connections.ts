// 5,000 idle TCP connections without a certificate (they never start TLS) held against a gateway with the default
// connection caps (4,096 in all, 1,024 per address: everything here comes from 127.0.0.1), then a client WITH a
// certificate opens fresh connections, one after another, and times each from connect to the end of the response.
// The target is every one served within 1 s. Also reports how long an unfinished handshake is held (the default
// handshake timeout, 5 s). Everything goes to 127.0.0.1; the gateway runs in its own process.
//
//   TZ=Asia/Tokyo node --import tsx bench/idle-connections.ts [idle=5000]        (≈ 20 s)
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startGatewayChild } from './gateway-child.js';
import { fmt, isMain, machineInfo, markdownTable, percentile, writeResults } from './lib.js';

export interface IdleReport {
  machine: ReturnType<typeof machineInfo>;
  idle: number;
  openedMs: number;
  idleStillOpen: number;
  idleClosedByGateway: number;
  clientMs: number[];
  clientStatuses: number[];
  handshakeHeldMs: number;
  metrics: string[];
}

export async function runIdleBench(idle = 5000, trials = 20): Promise<IdleReport> {
  const machine = machineInfo();
  const gw = await startGatewayChild({});
  const port = Number(new URL(gw.url).port);
  const sockets: Socket[] = [];
  let closedByGateway = 0;
  const t0 = performance.now();
  for (let done = 0; done < idle; done += 500) {
    await Promise.all(
      Array.from(
        { length: Math.min(500, idle - done) },
        () =>
          new Promise<void>((resolve) => {
            const s = connect(port, '127.0.0.1', () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => closedByGateway++);
            sockets.push(s);
          }),
      ),
    );
  }
  const openedMs = performance.now() - t0;
  const tls = {
    ca: readFileSync(join(gw.pkiDir, 'ca.crt')),
    cert: readFileSync(join(gw.pkiDir, 'hospital.crt')),
    key: readFileSync(join(gw.pkiDir, 'hospital.key')),
    servername: 'localhost',
  };
  const clientMs: number[] = [];
  const clientStatuses: number[] = [];
  for (let i = 0; i < trials; i++) {
    const agent = new Agent({ connect: tls }); // a fresh connection every time: TCP, TLS and the request
    const t = performance.now();
    try {
      const r = await request(`${gw.url}/fhir/metadata`, { dispatcher: agent, headersTimeout: 10_000 });
      await r.body.text();
      clientStatuses.push(r.statusCode);
    } catch {
      clientStatuses.push(0);
    }
    clientMs.push(performance.now() - t);
    await agent.close();
  }
  const agent = new Agent({ connect: tls });
  const m = await request(`${gw.url}/metrics`, { dispatcher: agent });
  const metrics = (await m.body.text()).split('\n').filter((l) => /^kaigo_gateway_(connections_|tls_rejected)/.test(l));
  await agent.close();
  // counted before the sockets are closed here
  const idleStillOpen = sockets.filter((s) => !s.destroyed).length;
  const idleClosed = closedByGateway;
  for (const s of sockets) s.destroy();

  // How long the gateway holds one connection that never finishes its handshake.
  const held = await new Promise<number>((resolve) => {
    const t = performance.now();
    const s = connect(port, '127.0.0.1', () => s.write(Buffer.from([0x16, 0x03, 0x01])));
    s.on('error', () => undefined);
    s.on('close', () => resolve(performance.now() - t));
  });
  await gw.stop();
  return {
    machine,
    idle,
    openedMs,
    idleStillOpen,
    idleClosedByGateway: idleClosed,
    clientMs,
    clientStatuses,
    handshakeHeldMs: held,
    metrics,
  };
}

export function idleTable(r: IdleReport): string {
  const sorted = [...r.clientMs].sort((a, b) => a - b);
  return [
    markdownTable(
      [
        'idle connections',
        'still open',
        'closed by the gateway',
        'client requests',
        '200s',
        'p50 ms',
        'p99 ms',
        'max ms',
      ],
      [
        [
          String(r.idle),
          String(r.idleStillOpen),
          String(r.idleClosedByGateway),
          String(r.clientMs.length),
          String(r.clientStatuses.filter((s) => s === 200).length),
          fmt(percentile(sorted, 50), 1),
          fmt(percentile(sorted, 99), 1),
          fmt(sorted.at(-1) ?? NaN, 1),
        ],
      ],
    ),
    '',
    `opening the idle connections took ${fmt(r.openedMs)} ms; an unfinished handshake was held ${fmt(r.handshakeHeldMs)} ms`,
    ...r.metrics,
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const r = await runIdleBench(Number(process.argv[2] ?? 5000));
  console.log(idleTable(r));
  console.log(`\nwrote ${writeResults('idle-connections.json', r)}`);
}
