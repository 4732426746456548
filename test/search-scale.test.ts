// Guard: search and the duplicate check do not grow with the store. Two stores, 1,000 and 10,000 documents (the
// larger one ten times the other: a cost that grows with the store shows as ~10×), on SQLite and PostgreSQL; every
// search of test/support/scale-queries.ts and the duplicate check are timed on both, interleaved so that the load
// of a shared machine falls on both alike, and the median of the larger must stay under 3× the smaller. Searches
// run scaled down to the store, with a probe cap of 20 instead of PROBE_CAP and pages of 2 instead of 20: below the
// cap a search reads all of its matches (to count them exactly), and a walk whose matches are sparse reads about
// page ÷ density rows before it has a page — bounds that a store of 10,000 would not yet reach with the real cap
// and page; scaled down, every search here is past them, where the cost must stay flat. Every statement's plan must read index ranges only: no scan
// of resources or search_index, nor an index range that is a whole resource type.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createGatewayContext, type GatewayContext } from '../src/engine/gateway-context.js';
import { parseSearch } from '../src/engine/search/search-query.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import type { SqlExec } from '../src/engine/storage/sql-exec.js';
import { findIdsByIdentifier } from '../src/engine/storage/sql-records.js';
import { PROBE_CAP, runSearch, type SearchSql } from '../src/engine/storage/sql-search-run.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { Store } from '../src/engine/storage/store.js';
import { startTestPg, type TestPg } from './support/pg.js';
import { scaleQueries, type ScaleQuery } from './support/scale-queries.js';
import { fillScaleStore, type ScaleFacts } from './support/scale-store.js';
import { fullScans, pgPlan, pgSql, recording, sqlitePlan, sqliteSql, type Ran } from './support/search-plans.js';

const SMALL = 1_000;
const LARGE = 10_000;
const GUARD_CAP = 20;
const GUARD_COUNT = 2;
const ROUNDS = 60;
const MAX_RATIO = 3;

interface Side {
  store: Store;
  sql: SearchSql;
  facts: ScaleFacts;
  plan(r: Ran): Promise<string[]>;
  close(): Promise<void>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

describe('search at scale: cost flat from 1,000 to 10,000 documents, index plans only', function () {
  this.timeout(240_000);
  let testPg: TestPg | undefined;
  after(() => testPg?.stop());

  for (const dialect of ['sqlite', 'postgresql'] as const) {
    describe(dialect, () => {
      const dirs: string[] = [];
      let ctx: GatewayContext;
      const sides: Side[] = [];

      async function side(documents: number): Promise<Side> {
        let store: Store;
        let sql: SearchSql;
        let plan: Side['plan'];
        let close: () => Promise<void>;
        if (dialect === 'sqlite') {
          const dir = mkdtempSync(join(tmpdir(), 'kaigo-scale-'));
          dirs.push(dir);
          const file = join(dir, 'store.sqlite');
          store = new SqliteStore(file);
          const db = new Database(file, { readonly: true });
          sql = sqliteSql(db);
          plan = async (r) => sqlitePlan(db, r);
          close = async () => void db.close();
        } else {
          testPg ??= await startTestPg();
          const url = await testPg.newDatabase();
          store = await PgStore.connect(url);
          const pool = new pg.Pool({ connectionString: url, max: 2 });
          sql = pgSql(pool);
          plan = (r) => pgPlan(pool, r);
          close = () => pool.end();
        }
        ctx ??= await createGatewayContext(store);
        const facts = await fillScaleStore(ctx, store, {
          documents,
          documentReferencesOnly: true,
          concurrency: dialect === 'postgresql' ? 4 : 1,
        });
        if (dialect === 'postgresql') await (sql as SearchSql).all('ANALYZE', []);
        return { store, sql, facts, plan, close: async () => (await close(), await store.close()) };
      }

      before(async () => {
        sides.push(await side(SMALL), await side(LARGE));
      });
      after(async () => {
        for (const s of sides) await s.close();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      });

      const search = (s: Side, q: ScaleQuery, probeCap: number, db: SearchSql = s.sql) =>
        runSearch(
          db,
          parseSearch(q.resourceType, { ...q.query, _count: String(GUARD_COUNT) }, ctx.searchParams),
          ctx.policy.scope(q.party),
          { probeCap },
        );

      it('every search statement is answered from index ranges, with the guard cap and with PROBE_CAP', async () => {
        const [, large] = sides as [Side, Side];
        const problems: string[] = [];
        for (const cap of [GUARD_CAP, PROBE_CAP])
          for (const q of scaleQueries(large.facts).filter((x) => x.resourceType === 'DocumentReference')) {
            const traced = recording(large.sql);
            await search(large, q, cap, traced);
            for (const ran of traced.ran) {
              const bad = fullScans(await large.plan(ran));
              if (bad.length) problems.push(`${q.name} (cap ${cap}): ${bad.join(' | ')}\n    ${ran.sql}`);
            }
          }
        expect(problems).to.deep.equal([]);
      });

      it(`every search costs under ${MAX_RATIO}× as much at ${LARGE} documents as at ${SMALL}`, async () => {
        const [small, large] = sides as [Side, Side];
        const queries = scaleQueries(small.facts)
          .map((q, i) => ({ q, big: scaleQueries(large.facts)[i]! }))
          .filter(({ q }) => !q.notFlat && q.resourceType === 'DocumentReference');
        const t = queries.map(() => ({ small: [] as number[], large: [] as number[] }));
        for (let round = 0; round < ROUNDS; round++)
          for (const [i, { q, big }] of queries.entries()) {
            t[i]!.small.push(await time(() => search(small, q, GUARD_CAP)));
            t[i]!.large.push(await time(() => search(large, big, GUARD_CAP)));
          }
        const ratios = queries.map(({ q }, i) => ({
          name: q.name,
          small: median(t[i]!.small.slice(5)),
          large: median(t[i]!.large.slice(5)),
        }));
        const over = ratios
          .filter((r) => r.large / r.small >= MAX_RATIO)
          .map(
            (r) =>
              `${r.name}: ${r.small.toFixed(3)} ms → ${r.large.toFixed(3)} ms (${(r.large / r.small).toFixed(1)}×)`,
          );
        expect(over).to.deep.equal([]);
      });

      it(`the duplicate check (findByIdentifier) costs under ${MAX_RATIO}× as much, from one index range`, async () => {
        const [small, large] = sides as [Side, Side];
        const ts = { small: [] as number[], large: [] as number[] };
        for (let round = 0; round < ROUNDS * 5; round++)
          for (const [k, s] of [
            ['small', small],
            ['large', large],
          ] as const) {
            const { system, value } = s.facts.lastIdentifier;
            ts[k].push(
              await time(async () =>
                expect(await s.store.findByIdentifier('DocumentReference', system, value)).to.have.length(1),
              ),
            );
          }
        const ratio = median(ts.large.slice(10)) / median(ts.small.slice(10));
        expect(ratio, `${median(ts.small).toFixed(3)} ms → ${median(ts.large).toFixed(3)} ms`).to.be.below(MAX_RATIO);
        // the statement the store runs, recorded on the side's connection
        const traced = recording(large.sql);
        const exec: SqlExec = { dialect, all: traced.all, run: async () => undefined, runEach: async () => undefined };
        const { system, value } = large.facts.lastIdentifier;
        expect(await findIdsByIdentifier(exec, 'DocumentReference', system, value)).to.have.length(1);
        const plan = await large.plan(traced.ran[0]!);
        expect(fullScans(plan)).to.deep.equal([]);
        expect(plan.join('\n')).to.match(/search_index_value/);
      });
    });
  }
});
