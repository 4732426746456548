// Every way a search can be answered (driven by a clause, the whole small scope, a walk of the scope's indexes —
// forced here with small probe caps) returns what a plain reading of the query says, on random stores, queries,
// scopes and pages: the same records in the same order, an exact total whenever one is given, and next/previous
// cursors that visit every match once, forwards and backwards. Also the scope narrowing on its own, against
// matchesRow.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  allOf,
  anyOf,
  eq,
  matchesRow,
  restrictTo,
  type RowField,
  type RowFilter,
} from '../src/engine/storage/row-filter.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import { runSearch, type SearchSql } from '../src/engine/storage/sql-search-run.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type {
  AccessTag,
  DatePrefix,
  IndexRow,
  SearchClause,
  SearchCursor,
  SearchQuery,
  Store,
} from '../src/engine/storage/store.js';
import { startTestPg, type TestPg } from './support/pg.js';
import { pgSql, sqliteSql } from './support/search-plans.js';

const TYPE = 'DocumentReference';
const FORMS = ['form-a', 'form-b', 'form-c'];
const AUTHORS = ['care-provider:1', 'care-provider:2', 'municipality:131011'];
const INSURERS = ['131011', '271007'];
const INSURED = ['0001', '0002'];
const PREFIXES: DatePrefix[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const SECOND = (n: number): string => `2024-01-01T00:00:${String(n).padStart(2, '0')}`;
const DAY = (n: number): string => `2024-01-${String(n).padStart(2, '0')}T00:00:00`;

interface Rec {
  id: string;
  type: string;
  access: AccessTag;
  index: IndexRow[];
}

const tagArb: fc.Arbitrary<AccessTag> = fc
  .record({
    author: fc.constantFrom(...AUTHORS),
    form: fc.option(fc.constantFrom(...FORMS), { nil: undefined }),
    insurerNumber: fc.option(fc.constantFrom(...INSURERS), { nil: undefined }),
    insuredNumber: fc.option(fc.constantFrom(...INSURED), { nil: undefined }),
  })
  .map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as unknown as AccessTag);

const recArb = (i: number): fc.Arbitrary<Rec> =>
  fc
    .record({
      type: fc.constantFrom(TYPE, TYPE, TYPE, 'Patient'),
      access: tagArb,
      codes: fc.array(
        fc.record({ value: fc.constantFrom('a', 'b', 'c'), system: fc.constantFrom('urn:x', 'urn:y', undefined) }),
        { maxLength: 2 },
      ),
      when: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
      periods: fc.array(fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 5 })), { maxLength: 2 }),
      ref: fc.option(fc.constantFrom('Patient/p1', 'Patient/p2'), { nil: undefined }),
      names: fc.array(fc.constantFrom('ab', 'abc', 'b', 'ba'), { maxLength: 2 }),
    })
    .map((r) => ({
      id: `d${String(i).padStart(2, '0')}`,
      type: r.type,
      access: r.access,
      index: [
        // `kind` holds the record's form, as DocumentReference.type holds the form it was stored under
        ...(r.access.form ? [{ param: 'kind', system: 'urn:k', value: r.access.form }] : []),
        ...r.codes.map((c) => ({ param: 'code', ...(c.system ? { system: c.system } : {}), value: c.value })),
        ...(r.when !== undefined ? [{ param: 'when', value: SECOND(r.when), high: SECOND(r.when) }] : []),
        ...r.periods.map(([d, len]) => ({ param: 'period', value: DAY(d), high: DAY(d + len) })),
        ...(r.ref ? [{ param: 'ref', value: r.ref }] : []),
        ...r.names.map((value) => ({ param: 'name', value })),
      ],
    }));

const storeArb = fc
  .integer({ min: 1, max: 30 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => recArb(i))));

const dateValue = (bound: (n: number) => string, max: number) =>
  fc.record({ prefix: fc.constantFrom(...PREFIXES), n: fc.integer({ min: 0, max }) }).map((v) => ({
    prefix: v.prefix,
    low: bound(v.n),
    high: bound === DAY ? bound(v.n).replace('T00:00:00', 'T23:59:59') : bound(v.n),
  }));

/** Clauses over the fields above; `lastUpdated` bounds come later, from the written times. */
const clauseArb: fc.Arbitrary<SearchClause | 'lastUpdated'> = fc.oneof(
  fc
    .array(
      fc.oneof(
        fc.record({ code: fc.constantFrom('a', 'b', 'c') }),
        fc.record({ system: fc.constantFrom('urn:x', 'urn:y', ''), code: fc.constantFrom('a', 'b') }),
        fc.record({ system: fc.constantFrom('urn:x', '') }),
      ),
      { minLength: 1, maxLength: 2 },
    )
    .map((values): SearchClause => ({ kind: 'token', param: 'code', values })),
  fc.array(fc.constantFrom(...FORMS, 'form-z'), { minLength: 1, maxLength: 2 }).map((codes): SearchClause => ({
    kind: 'token',
    param: 'kind',
    values: codes.map((code) => ({ code })),
    impliesTag: 'form',
  })),
  fc
    .array(dateValue(SECOND, 20), { minLength: 1, maxLength: 2 })
    .map((values): SearchClause => ({ kind: 'date', param: 'when', values, maxSpanSeconds: 0, singleValued: true })),
  fc
    .array(dateValue(DAY, 14), { minLength: 1, maxLength: 2 })
    .map((values): SearchClause => ({ kind: 'date', param: 'period', values })),
  fc
    .array(fc.constantFrom('Patient/p1', 'Patient/p2'), { minLength: 1, maxLength: 2 })
    .map((values): SearchClause => ({ kind: 'reference', param: 'ref', values })),
  fc
    .array(fc.constantFrom('a', 'ab', 'b', 'c'), { minLength: 1, maxLength: 2 })
    .map((values): SearchClause => ({ kind: 'string', param: 'name', values })),
  fc
    .array(fc.integer({ min: 0, max: 35 }), { minLength: 1, maxLength: 3 })
    .map((ns): SearchClause => ({ kind: 'id', values: ns.map((n) => `d${String(n).padStart(2, '0')}`) })),
  fc.constant('lastUpdated' as const),
);

const FIELDS: RowField[] = ['author', 'form', 'insurerNumber', 'insuredNumber'];
const atomArb = fc
  .tuple(fc.constantFrom(...FIELDS), fc.constantFrom(...AUTHORS, ...FORMS, ...INSURERS, ...INSURED))
  .map(([f, v]) => eq(f, v));
const scopeArb: fc.Arbitrary<RowFilter> = fc
  .array(fc.array(atomArb, { maxLength: 3 }), { maxLength: 4 })
  .map((cs) => anyOf(...cs.map((atoms) => allOf(...atoms))));

// ---------- the plain reading ----------

function dateHolds<T extends string | number>(p: DatePrefix, value: T, high: T, low: T, hq: T): boolean {
  switch (p) {
    case 'eq':
      return value >= low && high <= hq;
    case 'ne':
      return !(value >= low && high <= hq);
    case 'gt':
      return high > hq;
    case 'ge':
      return high >= low;
    case 'lt':
      return value < low;
    case 'le':
      return value <= hq;
  }
}

function holds(c: SearchClause, r: Rec, updatedMs: number): boolean {
  const rows = 'param' in c ? r.index.filter((x) => x.param === c.param) : [];
  switch (c.kind) {
    case 'token':
      return rows.some((x) =>
        c.values.some(
          (v) =>
            (v.code === undefined || x.value === v.code) &&
            (v.system === undefined || (v.system === '' ? x.system === undefined : x.system === v.system)),
        ),
      );
    case 'string':
      return rows.some((x) => c.values.some((v) => x.value.startsWith(v)));
    case 'reference':
      return rows.some((x) => c.values.includes(x.value));
    case 'date':
      return rows.some((x) => c.values.some((v) => dateHolds(v.prefix, x.value, x.high!, v.low, v.high)));
    case 'id':
      return c.values.includes(r.id);
    case 'lastUpdated':
      return c.values.some((v) => dateHolds(v.prefix, updatedMs, updatedMs, v.low, v.high));
  }
}

function expected(recs: Rec[], updated: Map<string, number>, q: SearchQuery, scope: RowFilter): string[] {
  const dir = q.sort === 'lastUpdated' ? 1 : -1;
  return recs
    .filter((r) => r.type === q.resourceType && matchesRow(scope, r.access))
    .filter((r) => q.clauses.every((c) => holds(c, r, updated.get(r.id)!)))
    .sort((a, b) => dir * (updated.get(a.id)! - updated.get(b.id)! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
    .map((r) => r.id);
}

// ---------- the stores ----------

interface Harness {
  store: Store;
  sql: SearchSql;
  updated(): Promise<Map<string, number>>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

async function sqliteHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kaigo-plans-'));
  const file = join(dir, 'store.sqlite');
  const store = new SqliteStore(file);
  const db = new Database(file);
  return {
    store,
    sql: sqliteSql(db),
    updated: async () =>
      new Map(
        (db.prepare('SELECT id, updated_ms FROM resources').all() as Array<{ id: string; updated_ms: number }>).map(
          (r) => [r.id, r.updated_ms],
        ),
      ),
    clear: async () => void db.exec('DELETE FROM resources; DELETE FROM search_index; DELETE FROM resource_history;'),
    close: async () => {
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pgHarness(testPg: TestPg): Promise<Harness> {
  const url = await testPg.newDatabase();
  const store = await PgStore.connect(url);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    store,
    sql: pgSql(pool),
    updated: async () =>
      new Map(
        (await pool.query<{ id: string; updated_ms: string }>('SELECT id, updated_ms FROM resources')).rows.map((r) => [
          r.id,
          Number(r.updated_ms),
        ]),
      ),
    clear: async () => void (await pool.query('TRUNCATE resources, search_index, resource_history')),
    close: async () => {
      await pool.end();
      await store.close();
    },
  };
}

describe('search plans', function () {
  this.timeout(300_000);

  it('narrowing a scope by an implied field admits exactly the rows of the scope with that field in the values', () => {
    const tagsArb = fc.array(tagArb, { minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(
        scopeArb,
        fc.constantFrom(...FIELDS),
        fc.array(fc.constantFrom(...AUTHORS, ...FORMS, ...INSURERS, ...INSURED), { maxLength: 3 }),
        tagsArb,
        (scope, field, values, tags) => {
          const narrowed = restrictTo(scope, field, values);
          for (const t of tags)
            expect(matchesRow(narrowed, t)).to.equal(matchesRow(scope, t) && values.includes(t[field] as string));
        },
      ),
      { numRuns: 500 },
    );
  });

  let testPg: TestPg | undefined;
  after(() => testPg?.stop());

  for (const dialect of ['sqlite', 'postgresql'] as const) {
    describe(dialect, () => {
      let h: Harness;
      before(async () => {
        if (dialect === 'postgresql') testPg = await startTestPg();
        h = dialect === 'sqlite' ? await sqliteHarness() : await pgHarness(testPg!);
      });
      after(() => h?.close());

      it('every plan gives the plain reading’s records, order and total, by offset and by cursor both ways', async () => {
        const queryArb = fc.record({
          clauses: fc.array(clauseArb, { maxLength: 3 }),
          lu: fc.tuple(fc.constantFrom(...PREFIXES), fc.double({ min: 0, max: 1, noNaN: true })),
          scope: scopeArb,
          sort: fc.constantFrom('lastUpdated' as const, '-lastUpdated' as const),
          count: fc.integer({ min: 1, max: 4 }),
          offset: fc.integer({ min: 0, max: 8 }),
          probeCap: fc.constantFrom(0, 1, 3, 1000),
          total: fc.constantFrom('estimate' as const, 'accurate' as const, undefined),
        });
        await fc.assert(
          fc.asyncProperty(storeArb, fc.array(queryArb, { minLength: 1, maxLength: 4 }), async (recs, queries) => {
            await h.clear();
            await h.store.transaction(async (tx) => {
              for (const r of recs)
                await tx.put({
                  resource: { resourceType: r.type, id: r.id } as never,
                  access: r.access,
                  index: r.index,
                });
            });
            const updated = await h.updated();
            const times = [...updated.values()].sort((a, b) => a - b);
            for (const g of queries) {
              const at = times[Math.floor(g.lu[1] * (times.length - 1))]!;
              const clauses = g.clauses.map((c): SearchClause =>
                c === 'lastUpdated' ? { kind: 'lastUpdated', values: [{ prefix: g.lu[0], low: at, high: at }] } : c,
              );
              const base: SearchQuery = {
                resourceType: TYPE,
                clauses,
                count: g.count,
                offset: 0,
                sort: g.sort,
                ...(g.total ? { total: g.total } : {}),
              };
              const want = expected(recs, updated, base, g.scope);
              const run = (q: SearchQuery) => runSearch(h.sql, q, g.scope, { probeCap: g.probeCap });
              const ids = (r: Awaited<ReturnType<typeof run>>) => r.records.map((x) => x.resource.id);

              const byOffset = await run({ ...base, offset: g.offset });
              expect(ids(byOffset), 'offset page').to.deep.equal(want.slice(g.offset, g.offset + g.count));
              expect(byOffset.hasNext, 'offset hasNext').to.equal(want.length > g.offset + g.count);
              if (byOffset.total !== undefined) expect(byOffset.total, 'total').to.equal(want.length);
              if (g.total === 'accurate') expect(byOffset.total, 'accurate total').to.equal(want.length);

              // forwards through every page by the next cursor …
              const seen: string[] = [];
              let page = await run(base);
              const pages = [page];
              for (let i = 0; ; i++) {
                expect(i, 'too many pages').to.be.below(40);
                seen.push(...ids(page));
                if (!page.hasNext) break;
                const cursor: SearchCursor = { direction: 'after', ...page.edges!.last };
                page = await run({ ...base, cursor });
                pages.push(page);
              }
              expect(seen, 'forwards').to.deep.equal(want);
              // … and back from the last one by the previous cursor
              const back: string[][] = [ids(page)];
              while (page.hasPrevious && page.edges) {
                expect(back.length, 'too many pages back').to.be.below(40);
                page = await run({ ...base, cursor: { direction: 'before', ...page.edges.first } });
                if (page.records.length) back.unshift(ids(page));
                else break;
              }
              expect(back.flat(), 'backwards').to.deep.equal(want);
            }
          }),
          { numRuns: dialect === 'sqlite' ? 150 : 40 },
        );
      });
    });
  }
});
