// ケアプラン CSV import throughput (rows/s): a 第6表 (UPPLAN) file of many people and rows, parsed, checked,
// turned into documents and stored in one transaction (a file-backed SQLite store, durable settings), against the
// parser alone in the same run (the baseline of the ratios) and the floor of decoding the same Shift-JIS bytes
// and splitting them into fields.
//
// Variants: store empty (a new one per round) or filled beforehand with BENCH_FILL_DOCS (default 100,000) clones
// of a real 第6表 document (bench/careplan-store-fill.ts; each round then imports people of its own, so every
// document is a new one among them); documents built inline (the CLI) or on worker threads, one per core (the
// server's ctx.builder); validation of every document (the product), or — bench only, to show what a faster
// validator buys — of one in 10 (today's validation CPU at 1/10) or none (the ceiling). Beside rows/s, the CPU
// time per document of the main thread (which parses and stores; the bound with enough cores) and of the whole
// process (every thread), which a busy shared machine disturbs less than the wall clock.
//
//   TZ=Asia/Tokyo node --import tsx bench/careplan-csv.ts      (≈ 6 min with the 100,000-document fill, ≈ 9 GB in /tmp)
//   BENCH_FILLED_DB=/tmp/…/db.sqlite …                          a store filled before (kept), instead of filling one
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { PROJECT_ROOT } from '../src/base/project.js';
import { createGatewayContext, type DocumentBuilder, type GatewayContext } from '../src/engine/gateway-context.js';
import { startBuildPool } from '../src/services/documents/build-pool.js';
import { fillWithClones } from './careplan-store-fill.js';
import { fractionalValidator, startFractionalPool } from './fractional-validation.js';
import { importCareplanFile, careplanLayouts } from '../src/services/careplan-csv/service.js';
import { formatFileName } from '../src/services/careplan-csv/file-name.js';
import { parseCsv } from '../src/services/careplan-csv/sjis-csv.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { allOf, anyOf, eq } from '../src/engine/storage/row-filter.js';
import { coresBusy, cpuSnapshot, fmt, isMain, machineInfo, markdownTable, median, writeResults } from './lib.js';

const OFFICE = '1370000018';
const PEOPLE = Number(process.env.BENCH_CSV_PEOPLE ?? 200);
const ROWS_PER_PERSON = 10;

function record(cells: Record<number, string>): string {
  const layout = careplanLayouts().get('UPPLAN')!;
  return layout.columns
    .map((c) => {
      const v = c.no === 1 ? '202407' : (cells[c.no] ?? '');
      return c.format === 'free-text' ? `"${v.replace(/"/g, '""')}"` : v;
    })
    .join(',');
}

export function upplanFile(
  people = PEOPLE,
  rows = ROWS_PER_PERSON,
  firstInsured = 1000000,
  timestamp = '20240425120000',
): { name: string; bytes: Buffer; rows: number } {
  const month = '202405';
  const lines: string[] = [];
  for (let p = 0; p < people; p++) {
    const insured = String(firstInsured + p).padStart(10, '0');
    for (let r = 0; r < rows; r++) {
      lines.push(
        record({
          2: '131011',
          3: insured,
          4: '20240425',
          5: month,
          6: OFFICE,
          7: '佐藤　花子',
          8: '655',
          10: `${month}${String(r + 1).padStart(2, '0')}`,
          12: '0930',
          13: '1600',
          14: '1',
          15: '155111',
          20: '1371000009',
          21: 'デイサービス「ひまわり」',
          23: '0',
        }),
      );
    }
  }
  const name = formatFileName({
    type: 'UPPLAN',
    month,
    senderOffice: OFFICE,
    senderServiceType: '43',
    receiverOffice: '1371000009',
    receiverServiceType: '15',
    timestamp,
  });
  return { name, bytes: iconv.encode(lines.map((l) => `${l}\r\n`).join(''), 'cp932'), rows: people * rows };
}

const FILL_DOCS = Number(process.env.BENCH_FILL_DOCS ?? 100_000);
/** a store filled by an earlier run to use as it is (not removed afterwards), instead of filling one */
const FILLED_DB = process.env.BENCH_FILLED_DB;
const ROUNDS = 3;
const party = { kind: 'care-manager-office' as const, code: OFFICE, name: 'bench' };

type StoreKind = 'empty' | 'filled';
type BuildKind = 'inline' | 'workers';
/** 1: every document validated (the product); 10: one in ten; 0: none (bench only) */
type Every = 1 | 10 | 0;
interface Round {
  rowsPerSec: number;
  /** CPU ms per document: the main thread's, and the whole process's (worker threads included) */
  mainMs: number;
  processMs: number;
  /** cores the whole machine used meanwhile, this process included (0..nproc): other work shows here */
  coresBusy: number;
}
interface VariantResult {
  store: StoreKind;
  build: BuildKind;
  validateEvery: Every;
  rounds: Round[];
}

/** DocumentReferences in a store (every form, every author): the size of a reused one. */
async function documentCount(store: SqliteStore): Promise<number> {
  const authors = anyOf(allOf(eq('author', `${party.kind}:${party.code}`)));
  const q = {
    resourceType: 'DocumentReference',
    clauses: [],
    count: 0,
    offset: 0,
    sort: 'lastUpdated' as const,
    total: 'accurate' as const,
  };
  return (await store.search(q, authors)).total ?? 0;
}

/** CPU time of the main thread so far, ms (Linux: /proc; NaN elsewhere). */
function mainThreadCpuMs(): number {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return NaN;
  }
}

const validationLabel = (e: Every): string =>
  e === 1 ? 'every document (product)' : e === 10 ? '1 in 10 (bench only)' : 'none (bench only)';

async function builderFor(
  build: BuildKind,
  every: Every,
): Promise<(DocumentBuilder & { close(): Promise<void> }) | undefined> {
  if (build === 'inline') return undefined;
  return every === 1
    ? startBuildPool(PROJECT_ROOT, availableParallelism())
    : startFractionalPool(availableParallelism(), every);
}

/**
 * Imports files of new people into `ctx`, `warmUp` rounds (worker threads start cold: each sees only its share of
 * the documents) then ROUNDS timed.
 */
async function timedImports(
  ctx: () => Promise<GatewayContext>,
  next: () => number,
  warmUp: number,
  done?: (c: GatewayContext) => Promise<void>,
): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let round = 1 - warmUp; round <= ROUNDS; round++) {
    const c = await ctx();
    const k = next();
    const stamp = `2024042512${String(Math.floor(k / 60) % 60).padStart(2, '0')}${String(k % 60).padStart(2, '0')}`;
    const f = upplanFile(PEOPLE, ROWS_PER_PERSON, 1_000_000 + k * PEOPLE, stamp);
    const [t0, main0, cpu0, machine0] = [performance.now(), mainThreadCpuMs(), process.cpuUsage(), cpuSnapshot()];
    const r = await importCareplanFile(c, party, f.name, f.bytes);
    const [t1, main1, cpu1, machine1] = [performance.now(), mainThreadCpuMs(), process.cpuUsage(cpu0), cpuSnapshot()];
    if (r.status !== 201 || r.summary.documents.length !== PEOPLE) throw new Error(`import answered ${r.status}`);
    if (round > 0)
      rounds.push({
        rowsPerSec: f.rows / ((t1 - t0) / 1000),
        mainMs: (main1 - main0) / PEOPLE,
        processMs: (cpu1.user + cpu1.system) / 1000 / PEOPLE,
        coresBusy: coresBusy(machine0, machine1),
      });
    await done?.(c);
  }
  return rounds;
}

export async function runCareplanCsvBench(): Promise<{
  machine: ReturnType<typeof machineInfo>;
  method: string;
  file: { rows: number; bytes: number; documents: number };
  fill: { documents: number; seconds: number; reused?: string };
  parseRowsPerSec: number[];
  floorRowsPerSec: number[];
  variants: VariantResult[];
}> {
  const f = upplanFile();
  const parseRates: number[] = [];
  const floorRates: number[] = [];
  for (let round = 0; round < 4; round++) {
    const p0 = performance.now();
    for (let i = 0; i < 5; i++) parseCsv(f.bytes);
    parseRates.push((5 * f.rows) / ((performance.now() - p0) / 1000));
    const q0 = performance.now();
    for (let i = 0; i < 5; i++)
      iconv
        .decode(f.bytes, 'cp932')
        .split('\r\n')
        .map((l) => l.split(','));
    floorRates.push((5 * f.rows) / ((performance.now() - q0) / 1000));
  }

  const variants: VariantResult[] = [];
  // Files of people and names of their own in every run, so a store kept between runs takes each as new.
  let fileNo = Math.floor(Math.random() * 3000);
  const next = (): number => fileNo++;
  const base = await createGatewayContext(new SqliteStore(':memory:'));
  const plan: Array<[BuildKind, Every]> = [
    ['inline', 1],
    ['inline', 10],
    ['inline', 0],
    ['workers', 1],
    ['workers', 10],
    ['workers', 0],
  ];
  for (const [build, every] of plan) {
    const builder = await builderFor(build, every);
    const dirs: string[] = [];
    const rounds = await timedImports(
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'kaigo-csv-bench-'));
        dirs.push(dir);
        const store = new SqliteStore(join(dir, 'db.sqlite'));
        return {
          ...base,
          store,
          validator: every === 1 ? base.validator : fractionalValidator(base.validator, every),
          ...(builder ? { builder } : {}),
        };
      },
      next,
      builder ? 2 : 1,
      async (c) => {
        await c.store.close();
        for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
      },
    );
    await builder?.close();
    variants.push({ store: 'empty', build, validateEvery: every, rounds });
  }

  const dir = mkdtempSync(join(tmpdir(), 'kaigo-csv-bench-filled-'));
  const filled = new SqliteStore(FILLED_DB ?? join(dir, 'db.sqlite'));
  const t0 = performance.now();
  try {
    if (!FILLED_DB)
      await fillWithClones(
        { ...base, store: filled },
        party,
        FILL_DOCS,
        (insured) => upplanFile(1, ROWS_PER_PERSON, Number(insured)).bytes,
      );
    const fillSeconds = FILLED_DB ? 0 : (performance.now() - t0) / 1000;
    const stored = FILLED_DB ? await documentCount(filled) : FILL_DOCS;
    for (const [build, every] of plan.filter(([b, e]) => b === 'workers' || e === 1)) {
      const builder = await builderFor(build, every);
      const ctx: GatewayContext = {
        ...base,
        store: filled,
        validator: every === 1 ? base.validator : fractionalValidator(base.validator, every),
        ...(builder ? { builder } : {}),
      };
      variants.push({
        store: 'filled',
        build,
        validateEvery: every,
        rounds: await timedImports(async () => ctx, next, builder ? 2 : 1),
      });
      await builder?.close();
    }
    return {
      machine: machineInfo(),
      method: `UPPLAN files of ${PEOPLE} people × ${ROWS_PER_PERSON} rows (${PEOPLE} documents), each of new people; import = parse + check + documents + validation + one SQLite transaction (WAL, synchronous=FULL), ${ROUNDS} timed rounds after a warm-up per variant (two with worker threads); empty = a new store per round, filled = one store holding ${stored} documents before the first round; workers = ${availableParallelism()} worker threads; parse = parseCsv only (the baseline of the ratios); floor = iconv decode + split on CRLF and comma`,
      file: { rows: f.rows, bytes: f.bytes.length, documents: PEOPLE },
      fill: { documents: stored, seconds: fillSeconds, ...(FILLED_DB ? { reused: FILLED_DB } : {}) },
      parseRowsPerSec: parseRates,
      floorRowsPerSec: floorRates,
      variants,
    };
  } finally {
    await filled.close();
    await base.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function careplanCsvTable(r: Awaited<ReturnType<typeof runCareplanCsvBench>>): string {
  const parse = median(r.parseRowsPerSec);
  const rates = (label: string, xs: number[], cpu: [string, string, string]): string[] => [
    label,
    fmt(median(xs)),
    (median(xs) / parse).toFixed(3),
    ...cpu,
    xs.map((x) => fmt(x)).join(', '),
  ];
  const ms = (xs: number[]): string => fmt(median(xs), 2);
  return markdownTable(
    [
      'variant',
      'median rows/s',
      '× parse only',
      'main CPU ms/doc',
      'process CPU ms/doc',
      'cores busy (machine)',
      'rounds (rows/s)',
    ],
    [
      ...r.variants.map((v) =>
        rates(
          `import, ${v.store === 'empty' ? 'empty store' : `store of ${fmt(r.fill.documents)} documents`}, built ${v.build === 'inline' ? 'inline' : 'on worker threads'}, validating ${validationLabel(v.validateEvery)}`,
          v.rounds.map((x) => x.rowsPerSec),
          [
            ms(v.rounds.map((x) => x.mainMs)),
            ms(v.rounds.map((x) => x.processMs)),
            v.rounds.map((x) => x.coresBusy.toFixed(2)).join(', '),
          ],
        ),
      ),
      rates('parse only (Shift-JIS, quoting, fields)', r.parseRowsPerSec, ['', '', '']),
      rates('floor: decode + split', r.floorRowsPerSec, ['', '', '']),
    ],
  );
}

if (isMain(import.meta.url)) {
  const r = await runCareplanCsvBench();
  console.log(careplanCsvTable(r));
  console.log(
    r.fill.reused
      ? `\nstore: ${r.fill.reused}, ${fmt(r.fill.documents)} documents`
      : `\nfill: ${fmt(r.fill.documents)} documents in ${r.fill.seconds.toFixed(0)} s`,
  );
  console.log(`\nwrote ${writeResults('careplan-csv.json', r)}`);
}
