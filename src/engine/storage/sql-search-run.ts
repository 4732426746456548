// Runs a search on either store, in three statements whose cost is bounded by PROBE_CAP and the page, not by the
// size of the store:
//   1. probe: count each stream that could drive the search (search-plan.ts), stopping at PROBE_CAP + 1 rows;
//   2. keys: the (updated_ms, id) of the matches —
//      · driven: a stream of at most PROBE_CAP rows drives (an IN-subquery on its index range); every other clause
//        and the scope only check its rows (an index probe each). All its matches are read, so the total is exact.
//      · small scope: no clause is selective but the caller's scope (each alternative of it, read from its own
//        tag index) holds at most PROBE_CAP records: read them all, checking the clauses. Exact total again.
//      · walk: each alternative's tag index is walked in the search order, from the cursor, checking the clauses,
//        and stops once it has the page: a union of short ordered runs. The total is not known (R4 allows leaving
//        it out); `_total=accurate` counts it anyway, at a cost that grows with the matches.
//   3. records: the page's rows by primary key.
// Ordering and cursor comparisons are all done in SQL, so they follow the database's own collation of ids.
import { recordColumns, rowToRecord, type ResourceRow } from './sql-records.js';
import type { SqlDialect } from './sql-exec.js';
import { accessPath, clausesBeyond, planSearch, type SearchPlan, type Stream } from './search-plan.js';
import {
  conjunctionSql,
  isIndexClause,
  lastUpdatedSql,
  matchesClauseSql,
  rangeSql,
  rowFilterSql,
  unindexed,
  type Push,
} from './sql-search.js';
import type { RowConjunction } from './row-filter.js';
import type { ReadScope, SearchClause, SearchQuery, SearchResult, StoredRecord } from './store.js';

/** The most rows a probe counts, and so the most a driving stream or a fully read scope may hold. */
export const PROBE_CAP = 1000;

export interface SearchSql {
  readonly dialect: SqlDialect;
  /** `?` placeholders, bound in order */
  all<R>(sql: string, params: readonly unknown[]): Promise<R[]>;
}

interface Key {
  u: number | string;
  id: string;
  /** 1/true: after the cursor (for `after`) or before it (for `before`), in the query's order */
  pos?: number | boolean;
}

class Statement {
  readonly params: unknown[] = [];
  readonly push: Push = (v) => (this.params.push(v), '?');
}

type Direction = 'ASC' | 'DESC';
const flip = (d: Direction): Direction => (d === 'ASC' ? 'DESC' : 'ASC');

/** The clauses a row of `resources r` must also satisfy, as SQL (an index probe each). */
function checks(plan: SearchPlan, clauses: readonly SearchClause[], push: Push, alias = 'r'): string[] {
  return clauses.map((c) => {
    if (isIndexClause(c)) return matchesClauseSql(c, plan.type, push, alias);
    if (c.kind === 'lastUpdated') return lastUpdatedSql(c, push, alias);
    return `${alias}.id IN (${c.values.map(push).join(', ')})`;
  });
}

/** How stream `s` selects its rows of `resources r`. */
function driverSql(s: Exclude<Stream, { kind: 'index' }>, push: Push): string[] {
  switch (s.kind) {
    case 'ids':
      return s.ids.length ? [`r.id IN (${s.ids.map(push).join(', ')})`] : ['1 = 0'];
    case 'updated':
      return rangeSql('r.updated_ms', s.range, push);
  }
}

/**
 * `FROM … WHERE …` of the records stream `s` drives. An index stream is the outer loop of a CROSS JOIN, which
 * SQLite never reorders: each of its few ids is then one primary-key lookup, where the planner would otherwise
 * scan a covering index of the whole type and test each row against the id list.
 */
function drivenFrom(type: string, s: Stream, push: Push, more: (push: Push) => string[]): string {
  if (s.kind === 'index') {
    // No DISTINCT: SQLite would read ids in order from the owner index (every row of the type) to make them unique;
    // a repeated id costs one more lookup, and the key query's UNION drops the duplicate.
    const ids = `SELECT s.id AS id FROM search_index s WHERE ${s.rows(push)}`;
    return `(${ids}) d CROSS JOIN resources r WHERE ${[`r.type = ${push(type)}`, 'r.id = d.id', ...more(push)].join(' AND ')}`;
  }
  return `resources r WHERE ${[`r.type = ${push(type)}`, ...driverSql(s, push), ...more(push)].join(' AND ')}`;
}

/** `SELECT COUNT(*) FROM (<rows> LIMIT cap + 1)`: the work stops at the cap whatever the stream holds. */
function cappedCount(rows: string, cap: number, push: Push): string {
  return `(SELECT COUNT(*) FROM (${rows} LIMIT ${push(cap + 1)}) t)`;
}

function streamRows(plan: SearchPlan, s: Stream, push: Push): string {
  if (s.kind === 'index') return `SELECT 1 FROM search_index s WHERE ${s.rows(push)}`;
  const where = [`r.type = ${push(plan.type)}`, ...driverSql(s, push)].join(' AND ');
  // In index order: PostgreSQL might otherwise scan the table for a range it expects to be most of it.
  return `SELECT 1 FROM resources r WHERE ${where}${s.kind === 'updated' ? ' ORDER BY r.updated_ms' : ''}`;
}

/** An upper bound of an alternative's records in range, from one index range (see accessPath). */
function alternativeProbe(plan: SearchPlan, alt: RowConjunction, push: Push): string {
  const path = accessPath(alt);
  const where = [
    `r.type = ${push(plan.type)}`,
    conjunctionSql(path.atoms, 'r', push),
    ...(path.ordered ? rangeSql('r.updated_ms', plan.updated, push) : []),
  ];
  const order = path.ordered && plan.updated ? ' ORDER BY r.updated_ms' : '';
  return `SELECT 1 FROM resources r WHERE ${where.join(' AND ')}${order}`;
}

function alternativeRows(plan: SearchPlan, alt: RowConjunction, push: Push): string[] {
  return [
    `r.type = ${push(plan.type)}`,
    conjunctionSql(alt.all, 'r', push),
    ...rangeSql('r.updated_ms', plan.updated, push),
  ];
}

async function counts(db: SearchSql, cap: number, pieces: Array<(push: Push) => string>): Promise<number[]> {
  if (pieces.length === 0) return [];
  const st = new Statement();
  const cols = pieces.map((p, i) => `${cappedCount(p(st.push), cap, st.push)} AS c${i}`);
  const [row] = await db.all<Record<string, number | string>>(`SELECT ${cols.join(', ')}`, st.params);
  return pieces.map((_, i) => Number(row![`c${i}`]));
}

/** The cursor test as a column: does this row come after (or before) the cursor in the query's order. */
function positionSql(q: SearchQuery, order: Direction, push: Push): string {
  if (!q.cursor) return '1';
  const later = (q.cursor.direction === 'after') === (order === 'DESC') ? '<' : '>';
  return `((r.updated_ms, r.id) ${later} (${push(q.cursor.updatedMs)}, ${push(q.cursor.id)}))`;
}

/**
 * Every match of a bounded key set, in the query's order, with each one's position relative to the cursor. Each
 * branch is the `FROM … WHERE …` of some of them (over `resources r`).
 */
async function allKeys(db: SearchSql, q: SearchQuery, branches: Array<(push: Push) => string>): Promise<Key[]> {
  const order: Direction = q.sort === 'lastUpdated' ? 'ASC' : 'DESC';
  const st = new Statement();
  const parts = branches.map(
    (b) => `SELECT r.updated_ms AS u, r.id AS id, ${positionSql(q, order, st.push)} AS pos FROM ${b(st.push)}`,
  );
  // The keys are few: sorting them beats walking a whole index in order (which the planner would otherwise pick).
  const keys = await db.all<Key>(
    `SELECT u, id, pos FROM (${parts.join(' UNION ')}) k ORDER BY ${unindexed(db.dialect, 'u')} ${order}, id ${order}`,
    st.params,
  );
  // A driving stream of search rows names a resource once per matching row (a resource may carry two equal rows,
  // and UNION does not dedupe a single branch): each resource counts once.
  const seen = new Set<string>();
  return keys.filter((k) => !seen.has(k.id) && Boolean(seen.add(k.id)));
}

/** Cuts one page out of every match (in order), by cursor or offset. */
function pageOf(q: SearchQuery, keys: Key[]): { page: Key[]; hasNext: boolean; hasPrevious: boolean } {
  if (!q.cursor) {
    const page = keys.slice(q.offset, q.offset + q.count);
    return { page, hasNext: keys.length > q.offset + q.count, hasPrevious: q.offset > 0 && keys.length > 0 };
  }
  const inside = keys.filter((k) => Boolean(Number(k.pos)));
  if (q.cursor.direction === 'after')
    return {
      page: inside.slice(0, q.count),
      hasNext: inside.length > q.count,
      hasPrevious: inside.length < keys.length,
    };
  return {
    page: inside.slice(Math.max(0, inside.length - q.count)),
    hasNext: inside.length < keys.length,
    hasPrevious: inside.length > q.count,
  };
}

/** One ordered, LIMITed run per alternative from the cursor, merged: a page costs what it holds, wherever it is. */
async function walk(
  db: SearchSql,
  plan: SearchPlan,
  q: SearchQuery,
  alternatives: readonly RowConjunction[],
): Promise<{ page: Key[]; hasNext: boolean; hasPrevious: boolean }> {
  const order: Direction = q.sort === 'lastUpdated' ? 'ASC' : 'DESC';
  const backward = q.cursor?.direction === 'before';
  const dir = backward ? flip(order) : order;
  const need = q.cursor ? q.count + 1 : q.offset + q.count + 1;
  const st = new Statement();
  const runs = alternatives.map((alt) => {
    const where = [...alternativeRows(plan, alt, st.push), ...checks(plan, plan.clauses, st.push)];
    if (q.cursor) {
      const cmp = (q.cursor.direction === 'after') === (order === 'DESC') ? '<' : '>';
      where.push(`(r.updated_ms, r.id) ${cmp} (${st.push(q.cursor.updatedMs)}, ${st.push(q.cursor.id)})`);
    }
    return `SELECT u, id FROM (SELECT r.updated_ms AS u, r.id AS id FROM resources r WHERE ${where.join(' AND ')} ORDER BY r.updated_ms ${dir}, r.id ${dir} LIMIT ${st.push(need)}) a`;
  });
  const rows = await db.all<Key>(
    `SELECT u, id FROM (${runs.join(' UNION ')}) w ORDER BY u ${dir}, id ${dir} LIMIT ${st.push(need)}`,
    st.params,
  );
  if (backward) {
    const page = rows.slice(0, q.count).reverse();
    return { page, hasNext: true, hasPrevious: rows.length > q.count };
  }
  if (q.cursor) return { page: rows.slice(0, q.count), hasNext: rows.length > q.count, hasPrevious: true };
  return {
    page: rows.slice(q.offset, q.offset + q.count),
    hasNext: rows.length > q.offset + q.count,
    hasPrevious: q.offset > 0 && rows.length > 0,
  };
}

/** Every match of the scope, counted (`_total=accurate` when nothing bounds it: grows with the matches). */
async function countAll(db: SearchSql, plan: SearchPlan, alternatives: readonly RowConjunction[]): Promise<number> {
  const st = new Statement();
  const parts = alternatives.map(
    (alt) =>
      `SELECT r.id FROM resources r WHERE ${[...alternativeRows(plan, alt, st.push), ...checks(plan, plan.clauses, st.push)].join(' AND ')}`,
  );
  const [row] = await db.all<{ n: number | string }>(
    `SELECT COUNT(*) AS n FROM (${parts.join(' UNION ')}) c`,
    st.params,
  );
  return Number(row!.n);
}

async function records(db: SearchSql, type: string, keys: readonly Key[]): Promise<StoredRecord[]> {
  if (keys.length === 0) return [];
  const st = new Statement();
  const rows = await db.all<ResourceRow>(
    `SELECT ${recordColumns('r')} FROM resources r WHERE r.type = ${st.push(type)} AND r.id IN (${keys.map((k) => st.push(k.id)).join(', ')})`,
    st.params,
  );
  const byId = new Map(rows.map((row) => rowToRecord(row)).map((r) => [r.resource.id, r]));
  // A record changed between the two reads keeps its place; one removed meanwhile is left out.
  return keys.flatMap((k) => byId.get(k.id) ?? []);
}

export interface SearchTrace {
  mode: 'empty' | 'driven' | 'small-scope' | 'walk';
  /** the probe counts (the streams', then the scope alternatives'), capped at PROBE_CAP + 1 */
  probed: number[];
}

export interface RunOptions {
  /** PROBE_CAP unless given (tests force the other modes with small caps) */
  probeCap?: number;
  trace?: (t: SearchTrace) => void;
}

export async function runSearch(
  db: SearchSql,
  q: SearchQuery,
  scope: ReadScope,
  { probeCap = PROBE_CAP, trace }: RunOptions = {},
): Promise<SearchResult> {
  const plan = planSearch(q, scope);
  const totalMode = q.total ?? 'estimate';
  const finish = async (
    mode: SearchTrace['mode'],
    probed: number[],
    page: { page: Key[]; hasNext: boolean; hasPrevious: boolean },
    total: number | undefined,
  ): Promise<SearchResult> => {
    trace?.({ mode, probed });
    const result: SearchResult = {
      records: await records(db, plan.type, page.page),
      hasNext: page.hasNext,
      hasPrevious: page.hasPrevious,
      ...(totalMode !== 'none' && total !== undefined ? { total } : {}),
    };
    if (page.page.length)
      result.edges = {
        first: { updatedMs: Number(page.page[0]!.u), id: page.page[0]!.id },
        last: { updatedMs: Number(page.page.at(-1)!.u), id: page.page.at(-1)!.id },
      };
    return result;
  };
  const none = { page: [], hasNext: false, hasPrevious: q.offset > 0 || q.cursor !== undefined };
  if (plan.scope.any.length === 0) return finish('empty', [], none, 0);

  // 1. Probe, in one statement: each stream that could drive, and each alternative of the scope (within the
  //    _lastUpdated range, as far as its index serves it), every count stopping at PROBE_CAP + 1.
  const probed = await counts(db, probeCap, [
    ...plan.streams.map((s) => (push: Push) => streamRows(plan, s, push)),
    ...plan.scope.any.map((alt) => (push: Push) => alternativeProbe(plan, alt, push)),
  ]);
  const streamSizes = probed.slice(0, plan.streams.length);
  const altSizes = probed.slice(plan.streams.length);
  // An alternative with no record in its range cannot contribute: leave it out of every statement below.
  const alternatives = plan.scope.any.filter((_, i) => altSizes[i]! > 0);
  if (alternatives.length === 0) return finish('empty', probed, none, 0);
  const inRange = { any: alternatives };
  const inScope = altSizes.reduce((a, b) => a + b, 0);
  let best = -1;
  streamSizes.forEach((n, i) => {
    if (best < 0 || n < streamSizes[best]!) best = i;
  });
  const smallest = best < 0 ? Infinity : streamSizes[best]!;

  // 2a. The scope itself is small (and no stream is smaller): read all of it, checking every clause.
  if (inScope <= probeCap && inScope <= smallest) {
    const keys = await allKeys(
      db,
      q,
      alternatives.map(
        (alt) => (push: Push) =>
          `resources r WHERE ${[...alternativeRows(plan, alt, push), ...checks(plan, plan.clauses, push)].join(' AND ')}`,
      ),
    );
    return finish('small-scope', probed, pageOf(q, keys), keys.length);
  }

  // 2b. A small stream drives: its rows are looked up by key and checked against the scope and the other clauses.
  if (smallest <= probeCap) {
    const driver = plan.streams[best]!;
    const rest = clausesBeyond(plan, driver);
    const keys = await allKeys(db, q, [
      (push) =>
        drivenFrom(plan.type, driver, push, (p) => [
          // Only checks here: the driver's rows are few, so no index on the scope's columns may take over.
          rowFilterSql(inRange, p, 'r', (c) => unindexed(db.dialect, c)),
          ...checks(plan, rest, p),
        ]),
    ]);
    return finish('driven', probed, pageOf(q, keys), keys.length);
  }

  // 3. Nothing small: walk each alternative's index in the search order.
  const page = await walk(db, plan, q, alternatives);
  const total = totalMode === 'accurate' ? await countAll(db, plan, alternatives) : undefined;
  return finish('walk', probed, page, total);
}
