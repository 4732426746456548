// The statements a search runs and the plans the database picks for them: a SearchSql that records what passes
// through it, and EXPLAIN for SQLite and PostgreSQL, so tests and benches can assert that every statement is
// answered from indexes (no full scan of resources or search_index).
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { numberPlaceholders } from '../../src/engine/storage/pg-exec.js';
import type { SearchSql } from '../../src/engine/storage/sql-search-run.js';

export interface Ran {
  sql: string;
  params: readonly unknown[];
}

export function recording(inner: SearchSql): SearchSql & { ran: Ran[] } {
  const ran: Ran[] = [];
  return {
    dialect: inner.dialect,
    ran,
    all: <R>(sql: string, params: readonly unknown[]) => (ran.push({ sql, params }), inner.all<R>(sql, params)),
  };
}

export const sqliteSql = (db: Database.Database): SearchSql => ({
  dialect: 'sqlite',
  all: async <R>(sql: string, params: readonly unknown[]) => db.prepare(sql).all(...params) as R[],
});

export const pgSql = (db: pg.Pool | pg.ClientBase): SearchSql => ({
  dialect: 'postgresql',
  all: async <R>(sql: string, params: readonly unknown[]) =>
    (await db.query(numberPlaceholders(sql), [...params])).rows as R[],
});

/** SQLite's plan lines (EXPLAIN QUERY PLAN details). */
export const sqlitePlan = (db: Database.Database, r: Ran): string[] =>
  (db.prepare(`EXPLAIN QUERY PLAN ${r.sql}`).all(...r.params) as Array<{ detail: string }>).map((x) => x.detail);

/** PostgreSQL's plan lines (EXPLAIN, costs off). */
export async function pgPlan(db: pg.Pool | pg.ClientBase, r: Ran): Promise<string[]> {
  const res = await db.query(`EXPLAIN (COSTS OFF) ${numberPlaceholders(r.sql)}`, [...r.params]);
  return res.rows.map((x: { 'QUERY PLAN': string }) => x['QUERY PLAN']);
}

/** Plan lines that read a whole table (or all of one type's rows) instead of an index range. */
export function fullScans(plan: readonly string[]): string[] {
  // SQLite names the search's aliases: r (resources), s (search_index).
  return plan.filter(
    (l) =>
      /\bSCAN (r|s|resources|search_index)\b/.test(l) ||
      /Seq Scan on (resources|search_index)/.test(l) ||
      // an index range on the type alone reads every row of the type
      /USING (COVERING )?INDEX \S+ \(type=\?\)$/.test(l) ||
      /Index Cond: \(type = '[^']*'::text\)$/.test(l.trim()),
  );
}
