// Shared helpers for the benchmarks: timed windows, medians, percentiles, machine facts, result files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../src/base/project.js';

export const RESULTS_DIR = join(PROJECT_ROOT, 'bench', 'results');

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile of an already sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Runs `fn` back to back for `ms` milliseconds; returns operations per second. */
export function timedWindow(fn: () => unknown, ms: number): { ops: number; seconds: number; opsPerSec: number } {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    fn();
    ops++;
    now = performance.now();
  }
  const seconds = (now - start) / 1000;
  return { ops, seconds, opsPerSec: ops / seconds };
}

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  ramGiB: number;
  node: string;
  sqlite: string;
  loadAverageAtStart: number[];
  /** HEAD of the repository and the src/ files that differ from it (uncommitted work is measured too). */
  git: { commit: string; dirtySrc: string[] };
}

function gitState(): MachineInfo['git'] {
  try {
    const run = (args: string[]): string =>
      execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const dirtySrc = run(['status', '--porcelain', '--', 'src'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return { commit: run(['rev-parse', '--short', 'HEAD']).trim(), dirtySrc };
  } catch {
    return { commit: 'unknown', dirtySrc: [] };
  }
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    /* not Linux */
  }
  const db = new Database(':memory:');
  const sqlite = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  db.close();
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    sqlite,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    git: gitState(),
  };
}

/** Machine-wide CPU time from /proc/stat (all cores), in clock ticks. */
export function cpuSnapshot(): { busy: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** Cores busy machine-wide between two snapshots (0..nproc), every process included. */
export const coresBusy = (a: { busy: number; total: number }, b: { busy: number; total: number }): number =>
  Math.round(((b.busy - a.busy) / (b.total - a.total)) * availableParallelism() * 100) / 100;

export function writeResults(file: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, file);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';

/** True when the module at `url` is the entry point (node --import tsx bench/x.ts). */
export const isMain = (url: string): boolean =>
  process.argv[1] !== undefined && fileURLToPath(url) === resolve(process.argv[1]);
