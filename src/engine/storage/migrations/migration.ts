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
}
