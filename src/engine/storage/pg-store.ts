// PostgreSQL store, for deployments that run several gateway nodes against one database. Same contract as the
// SQLite store (test/storage-contract.test.ts runs both): atomic transactions, an access scope inside the SQL,
// and advisory locks so two nodes cannot both create the document with one business identifier.
import pg from 'pg';
import { migratePg } from './migrations/run-pg.js';
import { pgExec } from './pg-exec.js';
import type { SqlExec } from './sql-exec.js';
import { findIdsByIndexRow } from './sql-index-rows.js';
import { findIdsByIdentifier, readRecord } from './sql-records.js';
import { runSearch } from './sql-search-run.js';
import { putRecord } from './sql-write.js';
import type { ReadScope, SearchQuery, SearchResult, Store, StoreTx, StoredRecord } from './store.js';

export class PgStore implements Store {
  readonly kind = 'postgresql';
  private readonly sql: SqlExec;
  private constructor(private readonly pool: pg.Pool) {
    this.sql = pgExec(pool);
  }

  /** Migrates the database to the latest schema (see migrations/run-pg.ts), then opens a pool. */
  static async connect(connectionString: string): Promise<PgStore> {
    // A connection of its own, ended afterwards: that releases the migration lock whatever happened.
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await migratePg(client);
    } finally {
      await client.end();
    }
    return new PgStore(new pg.Pool({ connectionString, max: 10 }));
  }

  read(type: string, id: string): Promise<StoredRecord | undefined> {
    return readRecord(this.sql, type, id);
  }

  findByIdentifier(type: string, system: string, value: string): Promise<string[]> {
    return findIdsByIdentifier(this.sql, type, system, value);
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const sql = pgExec(client);
      const result = await fn({
        read: (type, id) => readRecord(sql, type, id),
        // The identifier rows through the exact-row lookup: findIdsByIdentifier's DISTINCT makes SQLite walk every
        // search row of the type (search_index_owner), a cost per document that grows with the store.
        findByIdentifier: (type, system, value) => findIdsByIndexRow(sql, type, { param: 'identifier', system, value }),
        findByIndexRow: (type, row) => findIdsByIndexRow(sql, type, row),
        put: (rec) => putRecord(sql, rec),
        lock: async (key) => void (await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key])),
      });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  search(q: SearchQuery, scope: ReadScope): Promise<SearchResult> {
    return runSearch(this.sql, q, scope);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
