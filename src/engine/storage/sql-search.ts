// Search clauses and read scopes → SQL, shared by the SQLite and PostgreSQL stores. Values are always bound
// parameters; `ph(n)` renders the placeholder syntax of the dialect.
import type { RowAtom, RowField, RowFilter } from './row-filter.js';
import type { AccessTag, ReadScope, SearchClause } from './store.js';

export interface SqlPiece {
  sql: string;
  params: unknown[];
}

/** The column of `resources` holding each AccessTag field; typed so a field added to either side fails to compile. */
const TAG_COLUMN: Record<RowField, string> & Record<keyof AccessTag, string> = {
  author: 'r.author',
  form: 'r.form',
  insurerNumber: 'r.insurer_number',
  insuredNumber: 'r.insured_number',
};

function atomSql(atom: RowAtom, push: (v: unknown) => string): string {
  switch (atom.kind) {
    case 'eq':
      return `${TAG_COLUMN[atom.field]} = ${push(atom.value)}`;
  }
}

/**
 * The SQL interpreter of a row filter (the JS one is `matchesRow` in row-filter.ts), over `resources r`.
 * Placeholders are pushed in text order, as SQLite's positional `?` needs.
 */
export function rowFilterSql(filter: RowFilter, push: (v: unknown) => string): string {
  if (filter.any.length === 0) return '1 = 0';
  const alternatives = filter.any.map((c) => {
    if (c.all.length === 0) return '1 = 1';
    const atoms = c.all.map((a) => atomSql(a, push));
    return atoms.length === 1 ? atoms[0]! : `(${atoms.join(' AND ')})`;
  });
  return `(${alternatives.join(' OR ')})`;
}

type Prefix = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

function dateCondition(
  lowCol: string,
  highCol: string,
  prefix: Prefix,
  push: (v: unknown) => string,
  low: string,
  high: string,
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

export function buildWhere(
  resourceType: string,
  clauses: readonly SearchClause[],
  scope: ReadScope,
  ph: (n: number) => string,
): SqlPiece {
  const params: unknown[] = [];
  const push = (v: unknown): string => {
    params.push(v);
    return ph(params.length);
  };
  const parts: string[] = [`r.type = ${push(resourceType)}`];
  // Note: every placeholder is pushed in the order it appears in the SQL text (SQLite's ? is positional).

  // Deny by default: a scope with no alternative renders as 1 = 0.
  parts.push(rowFilterSql(scope, push));

  for (const c of clauses) {
    if (c.kind === 'id') {
      parts.push(`r.id IN (${c.values.map(push).join(', ')})`);
      continue;
    }
    if (c.kind === 'lastUpdated') {
      parts.push(
        `(${c.values.map((v) => dateCondition('r.last_updated_local', 'r.last_updated_local', v.prefix, push, v.low, v.high)).join(' OR ')})`,
      );
      continue;
    }
    // Positional placeholders: push in the order they appear in the SQL text.
    const typePh = push(resourceType);
    const paramPh = push(c.param);
    const ors: string[] = [];
    if (c.kind === 'token') {
      for (const v of c.values) {
        const conds = [
          ...(v.system !== undefined ? [v.system === '' ? `s.system IS NULL` : `s.system = ${push(v.system)}`] : []),
          ...(v.code !== undefined ? [`s.value = ${push(v.code)}`] : []),
        ];
        ors.push(conds.length ? `(${conds.join(' AND ')})` : '1 = 1');
      }
    } else if (c.kind === 'string') {
      for (const v of c.values)
        ors.push(`s.value LIKE ${push(`${v.replace(/[\\%_]/g, (m) => `\\${m}`)}%`)} ESCAPE '\\'`);
    } else if (c.kind === 'reference') {
      for (const v of c.values) ors.push(`s.value = ${push(v)}`);
    } else {
      for (const v of c.values) ors.push(dateCondition('s.value', 's.high', v.prefix, push, v.low, v.high));
    }
    // An uncorrelated IN-subquery is answered from the (type, param, value) index; a correlated EXISTS made
    // SQLite walk every resource in scope (search cost grew with the number of stored documents).
    parts.push(
      `r.id IN (SELECT s.id FROM search_index s WHERE s.type = ${typePh} AND s.param = ${paramPh} AND (${ors.join(' OR ')}))`,
    );
  }
  return { sql: parts.join(' AND '), params };
}
