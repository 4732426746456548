// Embedded default store: SQLite via better-sqlite3, WAL with synchronous=FULL so a commit is on disk before
// the 201 that reports it. One writer connection (transactions, serialised by a mutex) and one reader
// connection, so a read never sees another request's uncommitted writes.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Resource } from 'fhir/r4.js';
import { isoWithOffset } from '../../base/clock.js';
import { AsyncMutex } from './async-mutex.js';
import { rowToRecord, schemaSql, type ResourceRow } from './schema.js';
import { buildWhere } from './sql-search.js';
import type { ReadScope, SearchQuery, Store, StoreTx, StoredRecord, WriteRecord } from './store.js';

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly mutex = new AsyncMutex();
  private closed = false;

  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.writer = new Database(file);
    this.writer.pragma('journal_mode = WAL');
    this.writer.pragma('synchronous = FULL');
    this.writer.pragma('busy_timeout = 5000');
    this.writer.exec(schemaSql('sqlite'));
    this.reader = file === ':memory:' ? this.writer : new Database(file, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
  }

  // Prepared once per connection: preparing is about a third of a write's cost otherwise. Only the fixed
  // statements are cached; search SQL varies with the query.
  private readonly statements = new Map<Database.Database, Map<string, Database.Statement>>();
  private stmt(db: Database.Database, sql: string): Database.Statement {
    let byDb = this.statements.get(db);
    if (!byDb) this.statements.set(db, (byDb = new Map()));
    let st = byDb.get(sql);
    if (!st) byDb.set(sql, (st = db.prepare(sql)));
    return st;
  }

  private readRow(db: Database.Database, type: string, id: string): StoredRecord | undefined {
    const row = this.stmt(db, 'SELECT * FROM resources WHERE type = ? AND id = ?').get(type, id) as
      ResourceRow | undefined;
    return row ? rowToRecord(row) : undefined;
  }

  private findIds(db: Database.Database, type: string, system: string, value: string): string[] {
    return (
      this.stmt(
        db,
        `SELECT DISTINCT id FROM search_index WHERE type = ? AND param = 'identifier' AND system = ? AND value = ?`,
      ).all(type, system, value) as Array<{ id: string }>
    ).map((r) => r.id);
  }

  async read(type: string, id: string): Promise<StoredRecord | undefined> {
    return this.readRow(this.reader, type, id);
  }

  async findByIdentifier(type: string, system: string, value: string): Promise<string[]> {
    return this.findIds(this.reader, type, system, value);
  }

  private put(rec: WriteRecord): StoredRecord {
    const db = this.writer;
    const { resourceType: type, id } = rec.resource;
    const prev = this.stmt(db, 'SELECT version FROM resources WHERE type = ? AND id = ?').get(type, id) as
      { version: number } | undefined;
    const version = (prev?.version ?? 0) + 1;
    const now = new Date();
    const lastUpdated = isoWithOffset(now);
    const resource = {
      ...rec.resource,
      meta: { ...(rec.resource.meta ?? {}), versionId: String(version), lastUpdated },
    } as StoredRecord['resource'];
    const content = JSON.stringify(resource);
    this.stmt(
      db,
      `INSERT INTO resources (type, id, version, last_updated, last_updated_local, updated_ms, author, form, insurer_number, insured_number, content)
       VALUES (@type, @id, @version, @lastUpdated, @local, @ms, @author, @form, @insurer, @insured, @content)
       ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated,
         last_updated_local = excluded.last_updated_local, updated_ms = excluded.updated_ms, author = excluded.author,
         form = excluded.form, insurer_number = excluded.insurer_number, insured_number = excluded.insured_number, content = excluded.content`,
    ).run({
      type,
      id,
      version,
      lastUpdated,
      local: lastUpdated.slice(0, 19),
      ms: now.getTime(),
      author: rec.access.author,
      form: rec.access.form ?? null,
      insurer: rec.access.insurerNumber ?? null,
      insured: rec.access.insuredNumber ?? null,
      content,
    });
    this.stmt(db, 'INSERT INTO resource_history (type, id, version, last_updated, content) VALUES (?, ?, ?, ?, ?)').run(
      type,
      id,
      version,
      lastUpdated,
      content,
    );
    this.stmt(db, 'DELETE FROM search_index WHERE type = ? AND id = ?').run(type, id);
    const ins = this.stmt(
      db,
      'INSERT INTO search_index (type, id, param, system, value, high) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const row of rec.index) ins.run(type, id, row.param, row.system ?? null, row.value, row.high ?? null);
    return { resource, access: rec.access };
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      const db = this.writer;
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn({
          read: async (type, id) => this.readRow(db, type, id),
          findByIdentifier: async (type, system, value) => this.findIds(db, type, system, value),
          put: async (rec) => this.put(rec),
          // One writer at a time already (BEGIN IMMEDIATE under the mutex): nothing more to lock.
          lock: async () => undefined,
        });
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async search(q: SearchQuery, scope: ReadScope): Promise<{ total: number; records: StoredRecord[] }> {
    const where = buildWhere(q.resourceType, q.clauses, scope, () => '?');
    const total = (
      this.reader.prepare(`SELECT COUNT(*) AS n FROM resources r WHERE ${where.sql}`).get(...where.params) as {
        n: number;
      }
    ).n;
    // With a filter, "+ 0" keeps SQLite from walking resources_updated (every resource in scope) just to avoid a
    // sort: looking up the few matching ids by primary key and sorting those is far cheaper. Without a filter the
    // index walk is the right plan (it stops after one page).
    const col = q.clauses.length > 0 ? 'r.updated_ms + 0' : 'r.updated_ms';
    const order = q.sort === 'lastUpdated' ? `${col} ASC, r.id ASC` : `${col} DESC, r.id ASC`;
    const rows = this.reader
      .prepare(`SELECT r.* FROM resources r WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...where.params, q.count, q.offset) as ResourceRow[];
    return { total, records: rows.map(rowToRecord) };
  }

  async ping(): Promise<void> {
    this.reader.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      if (this.closed) return;
      this.closed = true;
      if (this.reader !== this.writer) this.reader.close();
      this.writer.close();
    });
  }
}

export type { Resource };
