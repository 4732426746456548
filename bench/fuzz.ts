// 10,000 generated bad requests (fixed seed, test/support/fuzz.ts) against a gateway in its own process, 8 at a
// time, with /readyz probed every 50 ms throughout. Checks each answer (a 4xx OperationOutcome within 2 s), that no
// row was written, and that the gateway stayed ready; prints a table per kind of request and writes
// bench/results/fuzz.json. Everything goes to 127.0.0.1.
//
//   TZ=Asia/Tokyo node --import tsx bench/fuzz.ts [count] [seed]        (10,000: ≈ 1–2 min)
import { FUZZ_LIMITS, FUZZ_SEED, hostileRequests, runFuzz, type FuzzReport } from '../test/support/fuzz.js';
import { startGatewayChild } from './gateway-child.js';
import { fmt, isMain, machineInfo, markdownTable, writeResults } from './lib.js';

export async function runFuzzBench(
  count = 10_000,
  seed = FUZZ_SEED,
): Promise<FuzzReport & { machine: ReturnType<typeof machineInfo> }> {
  const machine = machineInfo();
  const requests = hostileRequests(count, seed);
  const gw = await startGatewayChild({ limits: FUZZ_LIMITS });
  try {
    return { machine, ...(await runFuzz(gw, requests, { seed })) };
  } finally {
    await gw.stop();
  }
}

export function fuzzTable(r: FuzzReport): string {
  const rows = Object.entries(r.byKind)
    .sort((a, b) => b[1].n - a[1].n)
    .map(([kind, k]) => [
      kind,
      String(k.n),
      Object.entries(k.statuses)
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(' '),
    ]);
  return [
    markdownTable(['kind of bad request', 'sent', 'answers (status × count)'], rows),
    '',
    `${r.count} requests, seed ${r.seed}, ${fmt(r.seconds, 1)} s; latency p50 ${fmt(r.latencyMs.p50, 1)} ms, ` +
      `p99 ${fmt(r.latencyMs.p99, 1)} ms, max ${fmt(r.latencyMs.max, 1)} ms; largest answer ${fmt(r.largestResponseBytes)} B`,
    `failures (not a 4xx OperationOutcome within 2 s): ${r.failures.length}`,
    `/readyz: ${r.readyz.probes} probes, ${r.readyz.notReady} not ready, slowest ${fmt(r.readyz.maxMs, 1)} ms`,
    `rows before ${JSON.stringify(r.rows.before)}, after ${JSON.stringify(r.rows.after)}`,
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const count = Number(process.argv[2] ?? 10_000);
  const seed = Number(process.argv[3] ?? FUZZ_SEED);
  const r = await runFuzzBench(count, seed);
  console.log(fuzzTable(r));
  for (const f of r.failures.slice(0, 20)) console.log(JSON.stringify(f));
  console.log(`\nwrote ${writeResults('fuzz.json', r)}`);
  if (r.failures.length || r.readyz.notReady || JSON.stringify(r.rows.before) !== JSON.stringify(r.rows.after))
    process.exitCode = 1;
}
