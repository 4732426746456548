// HTTP throughput of the real gateway (mutual TLS 1.3, express, SQLite WAL synchronous=FULL) against an
// express 5 hello-world, driven by the same undici 7 loop in the same run.
//
//   hello POST       plain HTTP on 127.0.0.1, express 5 (etag and x-powered-by off) echoing a small JSON body
//   gateway POST     POST /forms/shujii-ikensho over mTLS as the dev hospital: the full sample with a distinct
//                    header.documentId per request (each a new stored document), institution code 1311234567
//   gateway search   GET /fhir/DocumentReference?insured-number=0001234567 over mTLS as the dev municipality;
//                    3 documents match (seeded first), among everything the POST variant has stored so far
//
// Each server runs in its own child process (this file, forked with --serve), so the client loop and a server
// do not share one event loop; on 2 cores that is about one core each, as with autocannon in toolchain.md §4.
// Client: an undici Pool per target with 10 connections and 10 requests in flight. Per variant a 2 s warm-up,
// then 8 s measured as 4 slices of 2 s, the three variants interleaved (direction alternating per round) so that
// drift of the shared machine hits all of them alike. Throughput = completed requests ÷ measured seconds; latency
// per request from send to body read. BENCH_SECONDS / BENCH_SLICES / BENCH_WARMUP_SECONDS / BENCH_CONCURRENCY
// override. The 2 s warm-up: with 1 s, the first second of hello-world ran at ~60 % of its steady state.
//
//   TZ=Asia/Tokyo node --import tsx bench/post-throughput.ts     (≈ 35 s)
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import {
  coresBusy,
  cpuSnapshot,
  fmt,
  isMain,
  machineInfo,
  markdownTable,
  median,
  percentile,
  writeResults,
  type MachineInfo,
} from './lib.js';

const SEARCH_INSURED = '0001234567';
const SEEDED_MATCHES = 3;

// ------------------------------------------------------------------------------------------------ server side

type ServeKind = 'gateway' | 'hello';
type ToParent = { ready: true; url: string; pkiDir?: string } | { stopped: true; stats: Record<string, number> };

async function serve(kind: ServeKind): Promise<void> {
  const send = (m: ToParent): void => void process.send!(m);
  if (kind === 'hello') {
    // If the bench process goes away (crash, Ctrl-C), do not linger.
    process.once('disconnect', () => process.exit(0));
    const { default: express } = await import('express');
    const app = express();
    app.disable('x-powered-by');
    app.disable('etag');
    app.use(express.json());
    app.post('/echo', (req, res) => void res.json(req.body));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const port = (server.address() as { port: number }).port;
    process.on('message', () => {
      server.closeAllConnections();
      server.close(() => (send({ stopped: true, stats: {} }), process.exit(0)));
    });
    send({ ready: true, url: `http://127.0.0.1:${port}` });
    return;
  }
  const { startTestGateway } = await import('../test/support/gateway.js');
  const { default: Database } = await import('better-sqlite3');
  const gw = await startTestGateway();
  // If the bench process goes away, stop the gateway (which removes its temporary data directory) and exit.
  process.once('disconnect', () => {
    const exit = setTimeout(() => process.exit(0), 5_000);
    void gw.stop().finally(() => (clearTimeout(exit), process.exit(0)));
  });
  process.on('message', async () => {
    const dbFile = join(gw.dataDir, 'kaigo-gateway.sqlite');
    const db = new Database(dbFile, { readonly: true });
    const count = (type: string): number =>
      (db.prepare('SELECT count(*) AS n FROM resources WHERE type = ?').get(type) as { n: number }).n;
    const stats = {
      documentReferences: count('DocumentReference'),
      resources: (db.prepare('SELECT count(*) AS n FROM resources').get() as { n: number }).n,
      indexRows: (db.prepare('SELECT count(*) AS n FROM search_index').get() as { n: number }).n,
      dbBytes: statSync(dbFile).size + (statSync(`${dbFile}-wal`, { throwIfNoEntry: false })?.size ?? 0),
      logLines: gw.logLines.length,
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
    db.close();
    await gw.stop();
    send({ stopped: true, stats });
    process.exit(0);
  });
  send({ ready: true, url: gw.url, pkiDir: gw.pkiDir });
}

// ------------------------------------------------------------------------------------------------ client side

interface Target {
  child: ChildProcess;
  url: string;
  pkiDir?: string;
  stop(): Promise<Record<string, number>>;
}

function startServer(kind: ServeKind): Promise<Target> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.once('message', (m: ToParent) => {
      clearTimeout(timer);
      if (!('ready' in m)) return reject(new Error('unexpected message'));
      const stop = (): Promise<Record<string, number>> =>
        new Promise((res) => {
          const kill = setTimeout(() => (child.kill('SIGKILL'), res({})), 10_000);
          child.once('message', (s: ToParent) => {
            clearTimeout(kill);
            res('stats' in s ? s.stats : {});
          });
          child.send('stop');
        });
      resolve({ child, url: m.url, ...(m.pkiDir ? { pkiDir: m.pkiDir } : {}), stop });
    });
  });
}

interface Req {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  name: string;
  description: string;
  /** Measured seconds, summed over the slices. */
  seconds: number;
  completed: number;
  errors: number;
  unexpectedStatus: Record<string, number>;
  /** completed ÷ seconds over all slices */
  reqPerSec: number;
  /** req/s of each slice, in time order */
  sliceReqPerSec: number[];
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Cores busy machine-wide in each slice (client + server; anything else running on the box adds to it). */
  sliceCoresBusy: number[];
}

interface Acc {
  latencies: number[];
  slices: number[];
  cores: number[];
  completed: number;
  seconds: number;
  errors: number;
  unexpected: Record<string, number>;
}

const newAcc = (): Acc => ({
  latencies: [],
  slices: [],
  cores: [],
  completed: 0,
  seconds: 0,
  errors: 0,
  unexpected: {},
});

/** `concurrency` workers send back to back for `seconds`; results go to `acc` unless this is warm-up. */
async function load(
  pool: Pool,
  next: () => Req,
  expectStatus: number,
  seconds: number,
  concurrency: number,
  acc?: Acc,
): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  const unexpected: Record<string, number> = {};
  const c0 = cpuSnapshot();
  const start = performance.now();
  const end = start + seconds * 1000;
  let last = start;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const r = next();
      const t0 = performance.now();
      try {
        const res = await pool.request({
          method: r.method,
          path: r.path,
          headers: r.headers ?? {},
          ...(r.body !== undefined ? { body: r.body } : {}),
        });
        await res.body.text();
        const t1 = performance.now();
        if (res.statusCode !== expectStatus) unexpected[res.statusCode] = (unexpected[res.statusCode] ?? 0) + 1;
        else latencies.push(t1 - t0);
        last = Math.max(last, t1);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (!acc) return;
  // Requests started before the deadline finish after it; count them over the time they actually took.
  const measured = (last - start) / 1000;
  acc.cores.push(coresBusy(c0, cpuSnapshot()));
  acc.latencies.push(...latencies);
  acc.slices.push(Math.round((latencies.length / measured) * 10) / 10);
  acc.completed += latencies.length;
  acc.seconds += measured;
  acc.errors += errors;
  for (const [k, v] of Object.entries(unexpected)) acc.unexpected[k] = (acc.unexpected[k] ?? 0) + v;
}

function summarise(name: string, description: string, acc: Acc): LoadResult {
  const sorted = acc.latencies.sort((a, b) => a - b);
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  return {
    name,
    description,
    seconds: Math.round(acc.seconds * 100) / 100,
    completed: acc.completed,
    errors: acc.errors,
    unexpectedStatus: acc.unexpected,
    reqPerSec: r1(acc.completed / acc.seconds),
    sliceReqPerSec: acc.slices,
    latencyMs: {
      p50: r1(percentile(sorted, 50)),
      p90: r1(percentile(sorted, 90)),
      p99: r1(percentile(sorted, 99)),
      max: r1(sorted[sorted.length - 1] ?? NaN),
      mean: r1(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
    },
    sliceCoresBusy: acc.cores,
  };
}

function tlsProtocol(url: string, pkiDir: string, client: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tlsConnect(
      {
        host: u.hostname,
        port: Number(u.port),
        servername: 'localhost',
        ca: readFileSync(join(pkiDir, 'ca.crt')),
        cert: readFileSync(join(pkiDir, `${client}.crt`)),
        key: readFileSync(join(pkiDir, `${client}.key`)),
      },
      () => {
        resolve(`${s.getProtocol()} ${s.getCipher().name}`);
        s.end();
      },
    );
    s.once('error', reject);
  });
}

export interface PostResults {
  bench: 'post-throughput';
  machine: MachineInfo;
  method: {
    warmupSecondsPerVariant: number;
    secondsPerVariant: number;
    slices: number;
    sliceSeconds: number;
    concurrency: number;
    client: string;
    servers: string;
    order: string;
  };
  tls: string;
  variants: LoadResult[];
  /** Variant req/s ÷ hello req/s: over the whole run, and the median of the per-round ratios (robust to drift). */
  ratios: Record<string, { overall: number; medianPerRound: number }>;
  gatewayAfterRun: Record<string, number>;
  loadAverageAtEnd: number[];
}

export async function runPostBench(
  opts: { seconds?: number; warmupSeconds?: number; slices?: number; concurrency?: number } = {},
): Promise<PostResults> {
  const seconds = opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 8);
  const warmupSeconds = opts.warmupSeconds ?? Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
  const slices = opts.slices ?? Number(process.env.BENCH_SLICES ?? 4);
  const concurrency = opts.concurrency ?? Number(process.env.BENCH_CONCURRENCY ?? 10);
  const sliceSeconds = seconds / slices;
  const machine = machineInfo();

  const started = await Promise.allSettled([startServer('hello'), startServer('gateway')]);
  if (started.some((r) => r.status === 'rejected')) {
    for (const r of started) if (r.status === 'fulfilled') r.value.child.kill();
    throw (started.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
  }
  const [hello, gw] = started.map((r) => (r as PromiseFulfilledResult<Target>).value) as [Target, Target];
  const pkiDir = gw.pkiDir!;
  const tlsOpts = (client: string): { ca: Buffer; cert: Buffer; key: Buffer; servername: string } => ({
    ca: readFileSync(join(pkiDir, 'ca.crt')),
    cert: readFileSync(join(pkiDir, `${client}.crt`)),
    key: readFileSync(join(pkiDir, `${client}.key`)),
    servername: 'localhost',
  });
  const helloPool = new Pool(hello.url, { connections: concurrency });
  const hospital = new Pool(gw.url, { connections: concurrency, connect: tlsOpts('hospital') });
  const municipality = new Pool(gw.url, { connections: concurrency, connect: tlsOpts('municipality') });
  let stats: Record<string, number>;
  let tls: string;
  const variants: LoadResult[] = [];
  try {
    tls = await tlsProtocol(gw.url, pkiDir, 'hospital');
    const full = JSON.parse(
      readFileSync(new URL('../test/samples/shujii-ikensho/full.json', import.meta.url), 'utf8'),
    ) as {
      header: { documentId: string; insuredNumber: string; institution: { code: string } };
    };
    full.header.institution.code = '1311234567';
    const template = JSON.stringify(full);
    // Distinct documentId per request; the POST variant also gives each document its own insured person, so the
    // search keeps matching exactly the seeded documents however many the POST variant has stored so far.
    const body = (docId: string, insured: string): string =>
      template
        .replace(`"documentId":"${full.header.documentId}"`, `"documentId":"${docId}"`)
        .replace(`"insuredNumber":"${full.header.insuredNumber}"`, `"insuredNumber":"${insured}"`);
    if (body('X', '1') === template) throw new Error('could not substitute documentId/insuredNumber in the sample');
    const postHeaders = { 'content-type': 'application/json' };
    for (let i = 0; i < SEEDED_MATCHES; i++) {
      const res = await hospital.request({
        method: 'POST',
        path: '/forms/shujii-ikensho',
        headers: postHeaders,
        body: body(`BENCH-SEED-${i}`, SEARCH_INSURED),
      });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`seeding POST answered ${res.statusCode}: ${text.slice(0, 500)}`);
    }
    const probe = await municipality.request({
      method: 'GET',
      path: `/fhir/DocumentReference?insured-number=${SEARCH_INSURED}`,
    });
    const found = JSON.parse(await probe.body.text()) as { total?: number };
    if (probe.statusCode !== 200 || found.total !== SEEDED_MATCHES)
      throw new Error(`search probe: status ${probe.statusCode}, total ${found.total} (expected ${SEEDED_MATCHES})`);

    let n = 0;
    const runId = Date.now().toString(36);
    const small = JSON.stringify({ hello: 'world', n: 1, items: [1, 2, 3] });
    const plan = [
      {
        name: 'hello POST',
        description: `express 5 echo of a ${small.length} B JSON body, plain HTTP`,
        pool: helloPool,
        expect: 200,
        next: (): Req => ({
          method: 'POST',
          path: '/echo',
          headers: { 'content-type': 'application/json' },
          body: small,
        }),
      },
      {
        name: 'gateway POST',
        description: 'POST /forms/shujii-ikensho (full sample, new document each), mTLS 1.3, hospital',
        pool: hospital,
        expect: 201,
        next: (): Req => {
          n++;
          return {
            method: 'POST',
            path: '/forms/shujii-ikensho',
            headers: postHeaders,
            body: body(`BENCH-${runId}-${n}`, String(9_000_000_000 + n)),
          };
        },
      },
      {
        name: 'gateway search',
        description: `GET /fhir/DocumentReference?insured-number=${SEARCH_INSURED} (${SEEDED_MATCHES} matches), mTLS 1.3, municipality`,
        pool: municipality,
        expect: 200,
        next: (): Req => ({ method: 'GET', path: `/fhir/DocumentReference?insured-number=${SEARCH_INSURED}` }),
      },
    ];
    for (const v of plan) await load(v.pool, v.next, v.expect, warmupSeconds, concurrency);
    const accs = new Map(plan.map((v) => [v.name, newAcc()]));
    for (let round = 0; round < slices; round++) {
      const order = round % 2 === 0 ? plan : [...plan].reverse();
      for (const v of order) await load(v.pool, v.next, v.expect, sliceSeconds, concurrency, accs.get(v.name)!);
    }
    for (const v of plan) variants.push(summarise(v.name, v.description, accs.get(v.name)!));
  } finally {
    await Promise.all([helloPool.close(), hospital.close(), municipality.close()]);
    await hello.stop();
    stats = await gw.stop();
  }

  const helloResult = variants.find((v) => v.name === 'hello POST')!;
  const ratios: PostResults['ratios'] = {};
  for (const v of variants) {
    if (v === helloResult) continue;
    const perRound = v.sliceReqPerSec.map((x, i) => x / helloResult.sliceReqPerSec[i]!);
    ratios[v.name] = {
      overall: Math.round((v.reqPerSec / helloResult.reqPerSec) * 10_000) / 10_000,
      medianPerRound: Math.round(median(perRound) * 10_000) / 10_000,
    };
  }
  return {
    bench: 'post-throughput',
    machine,
    method: {
      warmupSecondsPerVariant: warmupSeconds,
      secondsPerVariant: seconds,
      slices,
      sliceSeconds,
      concurrency,
      client: `undici ${(createRequire(import.meta.url)('undici/package.json') as { version: string }).version} Pool per target, ${concurrency} connections, ${concurrency} requests in flight`,
      servers: 'hello-world and gateway each in its own child process (both up for the whole run)',
      order: 'variants interleaved in slices, direction alternating per round',
    },
    tls,
    variants,
    ratios,
    gatewayAfterRun: stats,
    loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function postTable(r: PostResults): string {
  const rows = r.variants.map((v) => [
    v.name,
    fmt(v.reqPerSec, 1),
    r.ratios[v.name] ? `${fmt(r.ratios[v.name]!.overall, 4)} (${fmt(r.ratios[v.name]!.medianPerRound, 4)})` : '1',
    fmt(v.latencyMs.p50, 1),
    fmt(v.latencyMs.p99, 1),
    fmt(v.completed),
    String(v.errors + Object.values(v.unexpectedStatus).reduce((a, b) => a + b, 0)),
    v.sliceReqPerSec.map((x) => fmt(x)).join(', '),
    fmt(median(v.sliceCoresBusy), 2),
  ]);
  return [
    `${r.method.client}; per variant ${r.method.warmupSecondsPerVariant} s warm-up, then ${r.method.secondsPerVariant} s measured as ${r.method.slices} × ${r.method.sliceSeconds} s slices, ${r.method.order}; ${r.method.servers}; gateway TLS: ${r.tls}`,
    '',
    markdownTable(
      [
        'variant',
        'req/s',
        'vs hello (median per round)',
        'p50 ms',
        'p99 ms',
        'requests',
        'errors',
        'slices (req/s)',
        'cores busy (machine)',
      ],
      rows,
    ),
    '',
    `gateway after the run: ${Object.entries(r.gatewayAfterRun)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`,
  ].join('\n');
}

const serveArg = process.argv.indexOf('--serve');
if (serveArg !== -1) {
  await serve(process.argv[serveArg + 1] as ServeKind);
} else if (isMain(import.meta.url)) {
  const r = await runPostBench();
  const file = writeResults('post.json', r);
  console.log(postTable(r));
  console.log(`\nwrote ${file}`);
}
