// PostgreSQL store, for deployments that run several gateway nodes against one database. Same contract as the
// SQLite store (test/storage-contract.test.ts runs both): atomic transactions, an access scope inside the SQL,
// and advisory locks so two nodes cannot both create the document with one business identifier.
import pg from 'pg';
import { isoWithOffset } from '../../base/clock.js';
import { rowToRecord, schemaSql, type ResourceRow } from './schema.js';
import { buildWhere } from './sql-search.js';
import type { ReadScope, SearchQuery, Store, StoreTx, StoredRecord, WriteRecord } from './store.js';

type Queryable = pg.Pool | pg.PoolClient;

async function readRow(db: Queryable, type: string, id: string): Promise<StoredRecord | undefined> {
  const r = await db.query<ResourceRow>(
    'SELECT id, author, form, insurer_number, insured_number, content FROM resources WHERE type = $1 AND id = $2',
    [type, id],
  );
  return r.rows[0] ? rowToRecord(r.rows[0]) : undefined;
}

async function findIds(db: Queryable, type: string, system: string, value: string): Promise<string[]> {
  const r = await db.query<{ id: string }>(
    `SELECT DISTINCT id FROM search_index WHERE type = $1 AND param = 'identifier' AND system = $2 AND value = $3`,
    [type, system, value],
  );
  return r.rows.map((x) => x.id);
}

export class PgStore implements Store {
  readonly kind = 'postgresql';
  private constructor(private readonly pool: pg.Pool) {}

  static async connect(connectionString: string): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString, max: 10 });
    const client = await pool.connect();
    try {
      // Several nodes may start at once: serialise schema creation.
      await client.query('SELECT pg_advisory_lock(727274)');
      await client.query(schemaSql('postgresql'));
      await client.query('SELECT pg_advisory_unlock(727274)');
    } finally {
      client.release();
    }
    return new PgStore(pool);
  }

  read(type: string, id: string): Promise<StoredRecord | undefined> {
    return readRow(this.pool, type, id);
  }

  findByIdentifier(type: string, system: string, value: string): Promise<string[]> {
    return findIds(this.pool, type, system, value);
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn({
        read: (type, id) => readRow(client, type, id),
        findByIdentifier: (type, system, value) => findIds(client, type, system, value),
        put: (rec) => put(client, rec),
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
      `SELECT r.id, r.author, r.form, r.insurer_number, r.insured_number, r.content FROM resources r WHERE ${where.sql} ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
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

async function put(db: pg.PoolClient, rec: WriteRecord): Promise<StoredRecord> {
  const { resourceType: type, id } = rec.resource;
  const prev = await db.query<{ version: number }>(
    'SELECT version FROM resources WHERE type = $1 AND id = $2 FOR UPDATE',
    [type, id],
  );
  const version = (prev.rows[0]?.version ?? 0) + 1;
  const now = new Date();
  const lastUpdated = isoWithOffset(now);
  const resource = {
    ...rec.resource,
    meta: { ...(rec.resource.meta ?? {}), versionId: String(version), lastUpdated },
  } as StoredRecord['resource'];
  const content = JSON.stringify(resource);
  await db.query(
    `INSERT INTO resources (type, id, version, last_updated, last_updated_local, updated_ms, author, form, insurer_number, insured_number, content)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated,
       last_updated_local = excluded.last_updated_local, updated_ms = excluded.updated_ms, author = excluded.author,
       form = excluded.form, insurer_number = excluded.insurer_number, insured_number = excluded.insured_number, content = excluded.content`,
    [
      type,
      id,
      version,
      lastUpdated,
      lastUpdated.slice(0, 19),
      now.getTime(),
      rec.access.author,
      rec.access.form ?? null,
      rec.access.insurerNumber ?? null,
      rec.access.insuredNumber ?? null,
      content,
    ],
  );
  await db.query(
    'INSERT INTO resource_history (type, id, version, last_updated, content) VALUES ($1, $2, $3, $4, $5)',
    [type, id, version, lastUpdated, content],
  );
  await db.query('DELETE FROM search_index WHERE type = $1 AND id = $2', [type, id]);
  for (const row of rec.index) {
    await db.query('INSERT INTO search_index (type, id, param, system, value, high) VALUES ($1, $2, $3, $4, $5, $6)', [
      type,
      id,
      row.param,
      row.system ?? null,
      row.value,
      row.high ?? null,
    ]);
  }
  return { resource, access: rec.access };
}
