// Embedded default store: SQLite via better-sqlite3, WAL with synchronous=FULL so a commit is on disk before
// the 201 that reports it. One writer connection (transactions, serialised by a mutex) and one reader
// connection, so a read never sees another request's uncommitted writes.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Resource } from 'fhir/r4.js';
import { GroupCommitter } from './group-commit.js';
import { migrateSqlite } from './migrations/run-sqlite.js';
import { findIdsByIndexRow } from './sql-index-rows.js';
import { findIdsByIdentifier, readRecord } from './sql-records.js';
import { runSearch } from './sql-search-run.js';
import { putRecord } from './sql-write.js';
import { SqliteExec } from './sqlite-exec.js';
import { SqliteSearchExec } from './sqlite-search-exec.js';
import type { ReadScope, SearchQuery, SearchResult, Store, StoreTx, StoredRecord } from './store.js';

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writerSql: SqliteExec;
  private readonly readerSql: SqliteExec;
  private readonly searchSql: SqliteSearchExec;
  private readonly committer: GroupCommitter;
  private closed = false;

  /** Opens (or creates) the database and migrates it to the latest schema; throws for one newer than this code. */
  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.writer = new Database(file);
    try {
      this.writer.pragma('journal_mode = WAL');
      this.writer.pragma('synchronous = FULL');
      this.writer.pragma('busy_timeout = 5000');
      migrateSqlite(this.writer);
    } catch (err) {
      this.writer.close();
      throw err;
    }
    this.reader = file === ':memory:' ? this.writer : new Database(file, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    this.writerSql = new SqliteExec(this.writer);
    const w = this.writer;
    this.committer = new GroupCommitter({
      begin: () => w.exec('BEGIN IMMEDIATE'),
      savepoint: () => w.exec('SAVEPOINT tx'),
      release: () => w.exec('RELEASE tx'),
      rollbackToSavepoint: () => w.exec('ROLLBACK TO tx'),
      commit: () => w.exec('COMMIT'),
      rollback: () => {
        if (w.inTransaction) w.exec('ROLLBACK');
      },
    });
    this.readerSql = this.reader === this.writer ? this.writerSql : new SqliteExec(this.reader);
    this.searchSql = new SqliteSearchExec(this.reader);
  }

  read(type: string, id: string): Promise<StoredRecord | undefined> {
    return readRecord(this.readerSql, type, id);
  }

  findByIdentifier(type: string, system: string, value: string): Promise<string[]> {
    return findIdsByIdentifier(this.readerSql, type, system, value);
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    const tx: StoreTx = {
      read: (type, id) => readRecord(this.writerSql, type, id),
      // The identifier rows through the exact-row lookup: findIdsByIdentifier's DISTINCT makes SQLite walk every
      // search row of the type (search_index_owner), a cost per document that grows with the store.
      findByIdentifier: (type, system, value) =>
        findIdsByIndexRow(this.writerSql, type, { param: 'identifier', system, value }),
      findByIndexRow: (type, row) => findIdsByIndexRow(this.writerSql, type, row),
      put: (rec) => putRecord(this.writerSql, rec),
      // One writer at a time already (one connection, transactions run one after another): nothing more to lock.
      lock: async () => undefined,
    };
    return this.committer.run(() => fn(tx));
  }

  search(q: SearchQuery, scope: ReadScope): Promise<SearchResult> {
    return runSearch(this.searchSql, q, scope);
  }

  async ping(): Promise<void> {
    this.reader.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.committer.idle();
    if (this.reader !== this.writer) this.reader.close();
    this.writer.close();
  }
}

export type { Resource };
