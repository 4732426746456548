// Brings a PostgreSQL database to the latest schema when a node starts. Several nodes may start at once: they
// queue on one session advisory lock, so one migrates and the others then find nothing to do. Each migration
// runs in its own transaction together with its ledger row (PostgreSQL DDL is transactional).
import type pg from 'pg';
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

/** The key schema creation has always locked, so nodes of the pre-migration version queue on it too. */
export const MIGRATION_LOCK = 727274;

async function inTransaction<T>(db: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const result = await fn();
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const record = async (db: pg.ClientBase, m: Migration, clock: Clock): Promise<void> =>
  void (await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
    m.version,
    m.name,
    clock(),
  ]));

/**
 * Returns the versions applied now. Give it a connection of its own and end it afterwards: ending the session
 * releases the lock whatever happened.
 */
export async function migratePg(db: pg.ClientBase, opts: MigrateOptions = {}): Promise<number[]> {
  const known = opts.migrations ?? MIGRATIONS;
  const clock = opts.clock ?? systemClock;
  checkMigrationList(known);
  await db.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await inTransaction(db, async () => {
      const { rows } = await db.query<{ ledger: boolean; legacy: boolean }>(
        `SELECT to_regclass('schema_migrations') IS NOT NULL AS ledger, to_regclass($1) IS NOT NULL AS legacy`,
        [LEGACY_MARKER_TABLE],
      );
      if (rows[0]!.ledger) return;
      await db.query(LEDGER_DDL);
      // Written before the ledger existed: its tables are migration 1's, so record that instead of re-running it.
      if (rows[0]!.legacy && known[0]) await record(db, known[0], clock);
    });
    const applied: number[] = [];
    for (;;) {
      const done = await inTransaction(db, async () => {
        const ledger = (
          await db.query<AppliedMigration>('SELECT version, name FROM schema_migrations ORDER BY version')
        ).rows;
        const [next] = pendingMigrations(known, ledger);
        if (!next) return undefined;
        try {
          if (typeof next.postgresql === 'string') await db.query(next.postgresql);
          else await next.postgresql(db);
        } catch (err) {
          throw migrationFailed(next, err);
        }
        await record(db, next, clock);
        return next;
      });
      if (!done) return applied;
      applied.push(done.version);
    }
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
  }
}
