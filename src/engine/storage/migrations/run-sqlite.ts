// Brings a SQLite database to the latest schema when the store opens. Each migration runs in its own
// BEGIN IMMEDIATE transaction together with its ledger row, and what is pending is re-read inside that
// transaction, so two processes opening one file cannot both apply a step.
import type Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../../base/clock.js';
import { MIGRATIONS } from './index.js';
import {
  LEDGER_DDL,
  LEGACY_MARKER_TABLE,
  checkMigrationList,
  migrationFailed,
  pendingMigrations,
  type AppliedMigration,
  type MigrateOptions,
} from './ledger.js';
import type { Migration } from './migration.js';

function inTransaction<T>(db: Database.Database, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

const record = (db: Database.Database, m: Migration, clock: Clock): void =>
  void db
    .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    .run(m.version, m.name, clock());

/** Returns the versions applied now (none when the database was up to date). */
export function migrateSqlite(db: Database.Database, opts: MigrateOptions = {}): number[] {
  const known = opts.migrations ?? MIGRATIONS;
  const clock = opts.clock ?? systemClock;
  checkMigrationList(known);
  inTransaction(db, () => {
    const tables = new Set(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all());
    if (tables.has('schema_migrations')) return;
    db.exec(LEDGER_DDL);
    // Written before the ledger existed: its tables are migration 1's, so record that instead of re-running it.
    if (tables.has(LEGACY_MARKER_TABLE) && known[0]) record(db, known[0], clock);
  });
  const applied: number[] = [];
  for (;;) {
    const done = inTransaction(db, () => {
      const ledger = db
        .prepare('SELECT version, name FROM schema_migrations ORDER BY version')
        .all() as AppliedMigration[];
      const [next] = pendingMigrations(known, ledger);
      if (!next) return undefined;
      try {
        if (typeof next.sqlite === 'string') db.exec(next.sqlite);
        else next.sqlite(db);
      } catch (err) {
        throw migrationFailed(next, err);
      }
      record(db, next, clock);
      return next;
    });
    if (!done) break;
    applied.push(done.version);
  }
  if (applied.some((v) => known[v - 1]?.vacuumSqliteAfter)) vacuum(db, applied);
  return applied;
}

/** Gives the pages the applied steps freed back to the file system, and folds the rewritten file into it. */
function vacuum(db: Database.Database, applied: readonly number[]): void {
  try {
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (err) {
    // The steps are committed: the next start finds nothing to apply and opens the database as it is.
    throw new Error(
      `schema migrations ${applied.join(', ')} were applied, but vacuuming the database afterwards failed ` +
        `(it needs free disk space about the size of the database; the next start opens it unvacuumed): ` +
        (err as Error).message,
      { cause: err },
    );
  }
}
