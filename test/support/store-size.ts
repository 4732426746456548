// Bytes a store's data takes, per table with its indexes: SQLite from dbstat (pages of each b-tree, after folding
// the WAL in), PostgreSQL from pg_total_relation_size (heap, TOAST, indexes and their forks). Used by the
// storage-size guard test and bench/storage-size.ts.
import Database from 'better-sqlite3';
import pg from 'pg';

/** The tables a store writes; each one's bytes include its indexes. */
export const STORE_TABLES = ['resources', 'resource_history', 'search_index'] as const;
export type StoreTable = (typeof STORE_TABLES)[number];

export interface StoreSize {
  tables: Record<StoreTable, number>;
  total: number;
  /** SQLite: the database file after a checkpoint (free pages included); PostgreSQL: the whole database */
  file: number;
}

const sum = (tables: Record<StoreTable, number>): number => Object.values(tables).reduce((a, b) => a + b, 0);

/** Measures a SQLite database file; the store may be open (a checkpoint folds its WAL in first). */
export function sqliteSize(file: string): StoreSize {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const tables = {} as Record<StoreTable, number>;
    for (const t of STORE_TABLES) {
      const btrees = db
        .prepare(`SELECT name FROM sqlite_schema WHERE tbl_name = ? AND type IN ('table', 'index')`)
        .pluck()
        .all(t) as string[];
      tables[t] = btrees.reduce(
        (n, name) =>
          n + (db.prepare('SELECT SUM(pgsize) AS b FROM dbstat WHERE name = ?').get(name) as { b: number }).b,
        0,
      );
    }
    const pages = db.pragma('page_count', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    return { tables, total: sum(tables), file: pages * pageSize };
  } finally {
    db.close();
  }
}

/** Measures a PostgreSQL database (vacuumed first, so every table has its visibility and free-space maps). */
export async function pgSize(connectionString: string): Promise<StoreSize> {
  const c = new pg.Client({ connectionString });
  await c.connect();
  try {
    await c.query('VACUUM');
    const tables = {} as Record<StoreTable, number>;
    for (const t of STORE_TABLES)
      tables[t] = Number((await c.query<{ b: string }>('SELECT pg_total_relation_size($1) AS b', [t])).rows[0]!.b);
    const file = Number((await c.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')).rows[0]!.b);
    return { tables, total: sum(tables), file };
  } finally {
    await c.end();
  }
}
