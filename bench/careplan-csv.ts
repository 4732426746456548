// ケアプラン CSV import throughput (rows/s): a 第6表 (UPPLAN) file of many people and rows, parsed, checked,
// turned into documents and stored in one transaction (a file-backed SQLite store, durable settings), against
// the floor of decoding the same Shift-JIS bytes and splitting them into fields.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { importCareplanFile, careplanLayouts } from '../src/services/careplan-csv/service.js';
import { formatFileName } from '../src/services/careplan-csv/file-name.js';
import { parseCsv } from '../src/services/careplan-csv/sjis-csv.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { fmt, isMain, machineInfo, markdownTable, median, writeResults } from './lib.js';

const OFFICE = '1370000018';
const PEOPLE = 50;
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

export function upplanFile(people = PEOPLE, rows = ROWS_PER_PERSON): { name: string; bytes: Buffer; rows: number } {
  const month = '202405';
  const lines: string[] = [];
  for (let p = 0; p < people; p++) {
    const insured = String(1000000 + p).padStart(10, '0');
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
    timestamp: '20240425120000',
  });
  return { name, bytes: iconv.encode(lines.map((l) => `${l}\r\n`).join(''), 'cp932'), rows: people * rows };
}

export async function runCareplanCsvBench(): Promise<{
  machine: ReturnType<typeof machineInfo>;
  method: string;
  file: { rows: number; bytes: number };
  importRowsPerSec: number[];
  parseRowsPerSec: number[];
  floorRowsPerSec: number[];
}> {
  const f = upplanFile();
  const party = { kind: 'care-manager-office' as const, code: OFFICE, name: 'bench' };
  const importRates: number[] = [];
  const parseRates: number[] = [];
  const floorRates: number[] = [];
  for (let round = 0; round < 4; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'kaigo-csv-bench-'));
    const store = new SqliteStore(join(dir, 'db.sqlite'));
    const ctx = await createGatewayContext(store);
    const t0 = performance.now();
    const r = await importCareplanFile(ctx, party, f.name, f.bytes);
    const t1 = performance.now();
    if (r.status !== 201) throw new Error(`import answered ${r.status}`);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    if (round > 0) importRates.push(f.rows / ((t1 - t0) / 1000)); // round 0 warms up
    const p0 = performance.now();
    for (let i = 0; i < 20; i++) parseCsv(f.bytes);
    parseRates.push((20 * f.rows) / ((performance.now() - p0) / 1000));
    const q0 = performance.now();
    for (let i = 0; i < 20; i++)
      iconv
        .decode(f.bytes, 'cp932')
        .split('\r\n')
        .map((l) => l.split(','));
    floorRates.push((20 * f.rows) / ((performance.now() - q0) / 1000));
  }
  return {
    machine: machineInfo(),
    method: `UPPLAN file of ${PEOPLE} people × ${ROWS_PER_PERSON} rows; import = parse + check + documents + validation + one SQLite transaction (WAL, synchronous=FULL), 3 timed rounds after a warm-up; parse = parseCsv only; floor = iconv decode + split on CRLF and comma`,
    file: { rows: f.rows, bytes: f.bytes.length },
    importRowsPerSec: importRates,
    parseRowsPerSec: parseRates,
    floorRowsPerSec: floorRates,
  };
}

export const careplanCsvTable = (r: Awaited<ReturnType<typeof runCareplanCsvBench>>): string =>
  markdownTable(
    ['variant', 'median rows/s', 'rounds'],
    [
      [
        'import (parse, check, documents, validate, store)',
        fmt(median(r.importRowsPerSec)),
        r.importRowsPerSec.map((x) => fmt(x)).join(', '),
      ],
      [
        'parse only (Shift-JIS, quoting, fields)',
        fmt(median(r.parseRowsPerSec)),
        r.parseRowsPerSec.map((x) => fmt(x)).join(', '),
      ],
      ['floor: decode + split', fmt(median(r.floorRowsPerSec)), r.floorRowsPerSec.map((x) => fmt(x)).join(', ')],
    ],
  );

if (isMain(import.meta.url)) {
  const r = await runCareplanCsvBench();
  console.log(careplanCsvTable(r));
  console.log(`\nwrote ${writeResults('careplan-csv.json', r)}`);
}
