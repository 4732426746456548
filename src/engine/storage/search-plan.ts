// How a search is answered, decided before any SQL runs: the read scope narrowed by what the clauses imply about
// the access tag, and the streams that could drive it (a clause's rows in search_index, the `_id` list, a
// `_lastUpdated` range of resources), each with the SQL that yields it from one index range. Which one drives is
// decided by counting them, capped (sql-search-run.ts): the cost of a search then depends on how many rows that
// stream holds — at most the cap — and not on how many documents the store holds.
import { restrictTo, type RowAtom, type RowConjunction, type RowField, type RowFilter } from './row-filter.js';
import {
  dateValueRange,
  indexRowSql,
  intersect,
  isIndexClause,
  lastUpdatedRange,
  rangeSql,
  type IndexClause,
  type Push,
  type Range,
} from './sql-search.js';
import type { ReadScope, SearchClause, SearchQuery } from './store.js';

/**
 * The access-tag columns the indexes of `resources` lead with after `type` (migration 0002), each followed by
 * (updated_ms, id); the last, none: resources_updated. Longest first: the first whose columns an alternative fixes
 * all of serves it in the search order.
 */
const TAG_INDEXES: ReadonlyArray<readonly RowField[]> = [['author', 'form'], ['form', 'insurerNumber'], ['author'], []];

/**
 * The part of a scope alternative one index range answers: its equalities on a leading run of the index's tag
 * columns, and whether updated_ms follows them (so a `_lastUpdated` range is part of the index range too). Counting
 * those rows costs one step per row counted, so a capped count of them is bounded — unlike a count that must also
 * test columns the index lacks, which may read every row of the range to find few.
 */
export function accessPath(alt: RowConjunction): { atoms: RowAtom[]; ordered: boolean } {
  const fixed = new Map(alt.all.filter((a) => a.kind === 'eq').map((a) => [a.field, a] as const));
  let best: { atoms: RowAtom[]; ordered: boolean } = { atoms: [], ordered: true };
  for (const cols of TAG_INDEXES) {
    const atoms: RowAtom[] = [];
    for (const c of cols) {
      const a = fixed.get(c);
      if (!a) break;
      atoms.push(a);
    }
    const ordered = atoms.length === cols.length;
    if (atoms.length > best.atoms.length || (atoms.length === best.atoms.length && ordered && !best.ordered))
      best = { atoms, ordered };
  }
  return best;
}

/** Most values a clause may imply before narrowing the scope stops paying (each value copies every alternative). */
const MAX_IMPLIED_VALUES = 16;

export type Stream =
  /** index rows of `clauses`: `SELECT s.id FROM search_index s WHERE <rows>` */
  | { kind: 'index'; clauses: IndexClause[]; rows: (push: Push) => string }
  /** the `_id` values (every `_id` clause, intersected) */
  | { kind: 'ids'; ids: string[] }
  /** resources of the type whose updated_ms lies in `range` */
  | { kind: 'updated'; range: Range<number> };

export interface SearchPlan {
  type: string;
  /** the caller's scope, less the alternatives no match can satisfy, the others with the implied equalities */
  scope: RowFilter;
  clauses: SearchClause[];
  /** where updated_ms must lie (every `_lastUpdated` clause), to bound each alternative's index range */
  updated: Range<number> | undefined;
  /** the streams that can drive the search, each answering its clauses exactly */
  streams: Stream[];
}

/** The scope less what no match can be: each clause that implies an access-tag field restricts it to its codes. */
export function narrowScope(scope: ReadScope, clauses: readonly SearchClause[]): RowFilter {
  let out = scope;
  for (const c of clauses) {
    if (c.kind !== 'token' || c.impliesTag === undefined) continue;
    const codes = c.values.map((v) => v.code);
    // A value without a code (`system|`) implies nothing.
    if (codes.every((x) => x !== undefined) && codes.length <= MAX_IMPLIED_VALUES)
      out = restrictTo(out, c.impliesTag, codes as string[]);
  }
  return out;
}

function indexStreams(type: string, clauses: readonly IndexClause[]): Stream[] {
  const out: Stream[] = [];
  const stream = (cs: IndexClause[], range: Range<string> | undefined): Stream => ({
    kind: 'index',
    clauses: cs,
    rows: (push) =>
      [
        `s.type = ${push(type)}`,
        `s.param = ${push(cs[0]!.param)}`,
        ...rangeSql('s.value', range, push),
        ...cs.map((c) => indexRowSql(c, push)),
      ].join(' AND '),
  });
  const dateGroups = new Map<string, Array<Extract<IndexClause, { kind: 'date' }>>>();
  for (const c of clauses) {
    switch (c.kind) {
      case 'token':
        // `system|` (any code of a system) has no value to look up
        if (c.values.every((v) => v.code !== undefined)) out.push(stream([c], undefined));
        break;
      case 'reference':
        out.push(stream([c], undefined));
        break;
      case 'date': {
        // One row per record: its clauses can all be asked of that row, and their ranges intersect (ge and lt make
        // one bounded range). Otherwise each clause stands alone.
        const key = c.singleValued ? c.param : `${c.param}#${dateGroups.size}`;
        dateGroups.set(key, [...(dateGroups.get(key) ?? []), c]);
        break;
      }
      case 'string':
        // A prefix match has no collation-independent index range; it filters, it does not drive.
        break;
    }
  }
  for (const group of dateGroups.values()) {
    const range = group.map(dateValueRange).reduce((a, b) => intersect(a, b));
    if (range) out.push(stream(group, range));
  }
  return out;
}

const offsetMs = (ms: number): number => new Date(ms).getTimezoneOffset() * 60_000;

/**
 * For a date that is never after its record's meta.lastUpdated: the least updated_ms a match can have. The index
 * holds the date as local wall-clock text (the zone the gateway runs in, as every date search assumes), read back
 * here in that zone; less a second (the text has whole seconds) and any clock change of the zone near that time.
 */
function notBefore(c: Extract<SearchClause, { kind: 'date' }>): Range<number> | undefined {
  const lo = dateValueRange(c)?.lo;
  const ms = lo === undefined ? NaN : Date.parse(lo);
  if (Number.isNaN(ms)) return undefined;
  const day = 86_400_000;
  const shift = Math.max(...[ms - day, ms + day].map((t) => Math.abs(offsetMs(t) - offsetMs(ms))));
  return { lo: ms - 1000 - shift };
}

export function planSearch(q: SearchQuery, scope: ReadScope): SearchPlan {
  const streams: Stream[] = [];
  const idClauses = q.clauses.filter((c) => c.kind === 'id');
  if (idClauses.length) {
    const [first, ...rest] = idClauses.map((c) => new Set(c.values));
    streams.push({ kind: 'ids', ids: [...first!].filter((id) => rest.every((s) => s.has(id))) });
  }
  let updated: Range<number> | undefined;
  for (const c of q.clauses) {
    if (c.kind === 'lastUpdated') updated = intersect(updated, lastUpdatedRange(c));
    if (c.kind === 'date' && c.notAfterLastUpdated) updated = intersect(updated, notBefore(c));
  }
  if (updated) streams.push({ kind: 'updated', range: updated });
  streams.push(...indexStreams(q.resourceType, q.clauses.filter(isIndexClause)));
  return { type: q.resourceType, scope: narrowScope(scope, q.clauses), clauses: q.clauses, updated, streams };
}

/** The clauses a stream does not answer itself, which its rows must then be checked against. */
export function clausesBeyond(plan: SearchPlan, driver: Stream | undefined): SearchClause[] {
  if (!driver) return plan.clauses;
  return plan.clauses.filter((c) => {
    if (driver.kind === 'ids') return c.kind !== 'id';
    if (driver.kind === 'index') return !driver.clauses.includes(c as IndexClause);
    return true; // the updated range is a hull: the exact _lastUpdated conditions still apply
  });
}
