// The SQL fragments of a search, shared by the SQLite and PostgreSQL stores: a read scope over `resources r`, what
// an index row must hold to match a clause, and the ranges of search_index.value / resources.updated_ms a clause
// is confined to (so an index range can serve it). Values are always bound parameters, pushed in the order they
// appear in the text (SQLite's `?` is positional; the PostgreSQL side numbers them).
import type { SqlDialect } from './sql-exec.js';
import type { RowAtom, RowField, RowFilter } from './row-filter.js';
import type { AccessTag, DatePrefix, SearchClause } from './store.js';

export type Push = (v: unknown) => string;

/** The column of `resources` holding each AccessTag field; typed so a field added to either side fails to compile. */
export const TAG_COLUMN: Record<RowField, string> & Record<keyof AccessTag, string> = {
  author: 'author',
  form: 'form',
  insurerNumber: 'insurer_number',
  insuredNumber: 'insured_number',
};

/**
 * `+col` keeps SQLite from answering a term from an index (it then only filters rows another access path found);
 * PostgreSQL plans by cost and needs no such hint.
 */
export const unindexed = (dialect: SqlDialect, col: string): string => (dialect === 'sqlite' ? `+${col}` : col);

function atomSql(atom: RowAtom, alias: string, push: Push, hint: (col: string) => string): string {
  switch (atom.kind) {
    case 'eq':
      return `${hint(`${alias}.${TAG_COLUMN[atom.field]}`)} = ${push(atom.value)}`;
  }
}

/** One alternative of a row filter (a conjunction) over `alias`; `1 = 1` when it has no atoms. */
export function conjunctionSql(
  atoms: readonly RowAtom[],
  alias: string,
  push: Push,
  hint: (col: string) => string = (c) => c,
): string {
  if (atoms.length === 0) return '1 = 1';
  const parts = atoms.map((a) => atomSql(a, alias, push, hint));
  return parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`;
}

/**
 * The SQL interpreter of a row filter (the JS one is `matchesRow` in row-filter.ts), over `alias` (a `resources`
 * row). Deny by default: a filter with no alternative renders as 1 = 0.
 */
export function rowFilterSql(
  filter: RowFilter,
  push: Push,
  alias = 'r',
  hint: (col: string) => string = (c) => c,
): string {
  if (filter.any.length === 0) return '1 = 0';
  return `(${filter.any.map((c) => conjunctionSql(c.all, alias, push, hint)).join(' OR ')})`;
}

function dateCondition(
  lowCol: string,
  highCol: string,
  prefix: DatePrefix,
  push: Push,
  low: unknown,
  high: unknown,
): string {
  switch (prefix) {
    case 'eq':
      return `(${lowCol} >= ${push(low)} AND ${highCol} <= ${push(high)})`;
    case 'ne':
      return `NOT (${lowCol} >= ${push(low)} AND ${highCol} <= ${push(high)})`;
    case 'gt':
      return `(${highCol} > ${push(high)})`;
    case 'ge':
      return `(${highCol} >= ${push(low)})`;
    case 'lt':
      return `(${lowCol} < ${push(low)})`;
    case 'le':
      return `(${lowCol} <= ${push(high)})`;
  }
}

/** A clause kept in search_index (everything but `_id` and `_lastUpdated`). */
export type IndexClause = Extract<SearchClause, { param: string }>;

export const isIndexClause = (c: SearchClause): c is IndexClause => 'param' in c;

/** What one search_index row (alias `s`) must hold to match the clause: its values OR'd. */
export function indexRowSql(c: IndexClause, push: Push, s = 's'): string {
  const ors: string[] = [];
  switch (c.kind) {
    case 'token':
      for (const v of c.values) {
        const conds = [
          ...(v.code !== undefined ? [`${s}.value = ${push(v.code)}`] : []),
          ...(v.system !== undefined
            ? [v.system === '' ? `${s}.system IS NULL` : `${s}.system = ${push(v.system)}`]
            : []),
        ];
        ors.push(conds.length ? `(${conds.join(' AND ')})` : '1 = 1');
      }
      break;
    case 'string':
      for (const v of c.values)
        ors.push(`${s}.value LIKE ${push(`${v.replace(/[\\%_]/g, (m) => `\\${m}`)}%`)} ESCAPE '\\'`);
      break;
    case 'reference':
      for (const v of c.values) ors.push(`${s}.value = ${push(v)}`);
      break;
    case 'date':
      for (const v of c.values) ors.push(dateCondition(`${s}.value`, `${s}.high`, v.prefix, push, v.low, v.high));
      break;
  }
  return ors.length === 1 ? ors[0]! : `(${ors.join(' OR ')})`;
}

/**
 * "The record `alias` has an index row matching c": one probe of search_index (type, id, param, value) per record.
 * Written as a scalar subquery, not EXISTS: PostgreSQL turns an EXISTS into a semi-join that reads every row of
 * the clause (all of an insurer's documents, say) to check a few records; a scalar subquery it runs per record.
 */
export function matchesClauseSql(c: IndexClause, type: string, push: Push, alias = 'r'): string {
  const typePh = push(type);
  const paramPh = push(c.param);
  return `(SELECT 1 FROM search_index s WHERE s.type = ${typePh} AND s.id = ${alias}.id AND s.param = ${paramPh} AND ${indexRowSql(c, push)} LIMIT 1) IS NOT NULL`;
}

/** `_lastUpdated` on a `resources` row: updated_ms, an instant, compared with the clause's instants. */
export function lastUpdatedSql(c: Extract<SearchClause, { kind: 'lastUpdated' }>, push: Push, alias = 'r'): string {
  const col = `${alias}.updated_ms`;
  const ors = c.values.map((v) => dateCondition(col, col, v.prefix, push, v.low, v.high));
  return ors.length === 1 ? ors[0]! : `(${ors.join(' OR ')})`;
}

/** Both ends included; an absent end is open. */
export interface Range<T extends string | number> {
  lo?: T;
  hi?: T;
}

/** The smallest range holding all of `ranges` (undefined, unbounded, when one of them is). */
function hull<T extends string | number>(ranges: Array<Range<T> | undefined>): Range<T> | undefined {
  if (ranges.some((r) => r === undefined)) return undefined;
  const rs = ranges as Array<Range<T>>;
  const out: Range<T> = {};
  if (rs.every((r) => r.lo !== undefined)) out.lo = rs.map((r) => r.lo!).reduce((a, b) => (b < a ? b : a));
  if (rs.every((r) => r.hi !== undefined)) out.hi = rs.map((r) => r.hi!).reduce((a, b) => (b > a ? b : a));
  return out.lo === undefined && out.hi === undefined ? undefined : out;
}

/** Both constraints at once. */
export function intersect<T extends string | number>(
  a: Range<T> | undefined,
  b: Range<T> | undefined,
): Range<T> | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: Range<T> = {};
  const lo = a.lo === undefined ? b.lo : b.lo === undefined ? a.lo : a.lo > b.lo ? a.lo : b.lo;
  const hi = a.hi === undefined ? b.hi : b.hi === undefined ? a.hi : a.hi < b.hi ? a.hi : b.hi;
  if (lo !== undefined) out.lo = lo;
  if (hi !== undefined) out.hi = hi;
  return out;
}

/** Local date-time text (as the index writes it) moved by `seconds`. */
function shiftLocal(text: string, seconds: number): string {
  const ms = Date.parse(`${text}Z`);
  if (Number.isNaN(ms)) return '0000';
  const moved = new Date(ms + seconds * 1000).toISOString();
  return moved.startsWith('-') || moved.startsWith('+') ? (seconds < 0 ? '0000' : '9999') : moved.slice(0, 19);
}

/**
 * The range of search_index.value an index row matching this date clause lies in: [value, high] ⊆ the searched
 * period for eq; value below the bound for lt/le; for ge/gt only when the row's span is bounded (value ≥ bound −
 * span). Undefined when nothing bounds it (ne, or ge/gt with unbounded spans).
 */
export function dateValueRange(c: Extract<SearchClause, { kind: 'date' }>): Range<string> | undefined {
  const span = c.maxSpanSeconds;
  return hull(
    c.values.map((v): Range<string> | undefined => {
      switch (v.prefix) {
        case 'eq':
          return { lo: v.low, hi: v.high };
        case 'lt':
        case 'le':
          return { hi: v.prefix === 'lt' ? v.low : v.high };
        case 'ge':
        case 'gt':
          return span === undefined ? undefined : { lo: shiftLocal(v.prefix === 'ge' ? v.low : v.high, -span) };
        case 'ne':
          return undefined;
      }
    }),
  );
}

/** The range of resources.updated_ms a `_lastUpdated` clause confines a match to. */
export function lastUpdatedRange(c: Extract<SearchClause, { kind: 'lastUpdated' }>): Range<number> | undefined {
  return hull(
    c.values.map((v): Range<number> | undefined => {
      switch (v.prefix) {
        case 'eq':
          return { lo: v.low, hi: v.high };
        case 'lt':
          return { hi: v.low - 1 };
        case 'le':
          return { hi: v.high };
        case 'ge':
          return { lo: v.low };
        case 'gt':
          return { lo: v.high + 1 };
        case 'ne':
          return undefined;
      }
    }),
  );
}

/** `col >= lo AND col <= hi` for the ends the range has (redundant with the exact condition; there for the index). */
export function rangeSql<T extends string | number>(col: string, r: Range<T> | undefined, push: Push): string[] {
  if (!r) return [];
  return [
    ...(r.lo !== undefined ? [`${col} >= ${push(r.lo)}`] : []),
    ...(r.hi !== undefined ? [`${col} <= ${push(r.hi)}`] : []),
  ];
}
