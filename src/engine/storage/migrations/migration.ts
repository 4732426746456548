// One step of the schema, for both dialects. Usually SQL; a function when SQL alone cannot do it (e.g. rewriting
// stored JSON). SQLite steps are synchronous because the embedded store opens synchronously.
import type Database from 'better-sqlite3';
import type pg from 'pg';

export interface Migration {
  /** 1, 2, 3, … in order. A shipped migration is never edited, renumbered or renamed: databases record it. */
  readonly version: number;
  /** short kebab-case name, recorded with the version */
  readonly name: string;
  readonly sqlite: string | ((db: Database.Database) => void);
  readonly postgresql: string | ((db: pg.ClientBase) => Promise<void>);
  /**
   * The step frees much of a SQLite file (rows deleted or shrunk): the runner VACUUMs the file once the steps are
   * committed (VACUUM cannot run inside a transaction), so it shrinks rather than keeping the freed pages.
   * PostgreSQL leaves freed space to autovacuum, which makes it reusable without locking writers out.
   */
  readonly vacuumSqliteAfter?: boolean;
}
