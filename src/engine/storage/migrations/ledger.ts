// The schema_migrations ledger both runners keep, and the decision of what a database still needs: the same for
// SQLite and PostgreSQL, so only the driver calls differ between run-sqlite.ts and run-pg.ts.
import type { Clock } from '../../../base/clock.js';
import type { Migration } from './migration.js';

export const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL
)`;

/**
 * A database written before the ledger existed has migration 1's tables and no ledger; `resources` is how it is
 * recognised (that code created all its tables together).
 */
export const LEGACY_MARKER_TABLE = 'resources';

export interface AppliedMigration {
  version: number;
  name: string;
}

export interface MigrateOptions {
  /** the list to apply; tests pass their own */
  migrations?: readonly Migration[];
  /** applied_at, local time with offset */
  clock?: Clock;
}

/** Throws on a list that is not 1, 2, 3, … with distinct names: a programming error, caught before any change. */
export function checkMigrationList(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration list out of order: position ${i + 1} holds version ${m.version}`);
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(m.name)) throw new Error(`migration ${m.version}: bad name '${m.name}'`);
  });
}

/**
 * The migrations `applied` still lacks, in order. Refuses a database this code does not know: one migrated by a
 * newer gateway (running on would misread or corrupt it) or by a build whose migration N is a different one.
 */
export function pendingMigrations(known: readonly Migration[], applied: readonly AppliedMigration[]): Migration[] {
  const latest = known.at(-1)?.version ?? 0;
  for (const a of applied) {
    const m = known[a.version - 1];
    if (a.version > latest)
      throw new Error(
        `the database schema is at version ${a.version} (${a.name}), newer than this gateway knows ` +
          `(up to ${latest}): run the gateway version that migrated it, or restore a backup taken before`,
      );
    if (!m || m.name !== a.name)
      throw new Error(
        `the database records schema version ${a.version} as '${a.name}' but this gateway's migration ` +
          `${a.version} is '${m?.name ?? 'unknown'}': it was migrated by a different build`,
      );
  }
  const done = new Set(applied.map((a) => a.version));
  return known.filter((m) => !done.has(m.version));
}

export function migrationFailed(m: Migration, err: unknown): Error {
  return new Error(`schema migration ${m.version} (${m.name}) failed: ${(err as Error).message ?? String(err)}`, {
    cause: err,
  });
}
