// PostgreSQL store, for deployments that run several gateway nodes against one database. Same contract as the
// SQLite store (test/storage-contract.test.ts runs both): atomic transactions, an access scope inside the SQL,
// and advisory locks so two nodes cannot both create the document with one business identifier.
import pg from 'pg';
import { migratePg } from './migrations/run-pg.js';
import { pgExec } from './pg-exec.js';
import type { SqlExec } from './sql-exec.js';
import { buildWhere } from './sql-search.js';
import { findIdsByIndexRow } from './sql-index-rows.js';
import { findIdsByIdentifier, readRecord, recordColumns, rowToRecord, type ResourceRow } from './sql-records.js';
import { putRecord } from './sql-write.js';
import type { ReadScope, SearchQuery, Store, StoreTx, StoredRecord } from './store.js';

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

  async search(q: SearchQuery, scope: ReadScope): Promise<{ total: number; records: StoredRecord[] }> {
    const where = buildWhere(q.resourceType, q.clauses, scope, (n) => `$${n}`);
    const total = Number(
      (await this.pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM resources r WHERE ${where.sql}`, where.params))
        .rows[0]!.n,
    );
    const order = q.sort === 'lastUpdated' ? 'r.updated_ms ASC, r.id ASC' : 'r.updated_ms DESC, r.id ASC';
    const n = where.params.length;
    const rows = await this.pool.query<ResourceRow>(
      `SELECT ${recordColumns('r')} FROM resources r WHERE ${where.sql}
       ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...where.params, q.count, q.offset],
    );
    return { total, records: rows.rows.map(rowToRecord) };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
