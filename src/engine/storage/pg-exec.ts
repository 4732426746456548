// SqlExec over a PostgreSQL pool or pooled client: the shared statements' `?` placeholders become $1, $2, ….
// Safe because those statements are fixed texts with no `?` inside literals (nor the jsonb `?` operator).
import type pg from 'pg';
import type { SqlExec } from './sql-exec.js';

export const numberPlaceholders = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

export function pgExec(db: pg.Pool | pg.PoolClient): SqlExec {
  return {
    dialect: 'postgresql',
    all: async <R>(sql: string, params: readonly unknown[]) =>
      (await db.query(numberPlaceholders(sql), [...params])).rows as R[],
    run: async (sql, params) => void (await db.query(numberPlaceholders(sql), [...params])),
    runEach: async (sql, paramLists) => {
      const text = numberPlaceholders(sql);
      for (const params of paramLists) await db.query(text, [...params]);
    },
  };
}
