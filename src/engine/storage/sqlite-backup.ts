// Backup and restore of the embedded SQLite store. A backup is taken with SQLite's online backup API, so it is a
// consistent copy even while the gateway is writing (WAL mode); a restore checks the copy before it replaces the
// data and is done with the gateway stopped (the caller's promise: restore refuses a database that is in use).
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface BackupSummary {
  file: string;
  resources: number;
  schemaVersion: number | undefined;
}

function summarise(file: string): BackupSummary {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const ok = db.pragma('integrity_check', { simple: true });
    if (ok !== 'ok') throw new Error(`${file} fails SQLite's integrity check: ${String(ok)}`);
    const hasResources = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'resources'").get();
    if (!hasResources) throw new Error(`${file} is not a kaigo-gateway database (no resources table)`);
    const { n } = db.prepare('SELECT COUNT(*) AS n FROM resources').get() as { n: number };
    const hasVersions = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    const version = hasVersions
      ? (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v
      : null;
    return { file, resources: n, schemaVersion: version ?? undefined };
  } finally {
    db.close();
  }
}

/** Copies the live database at `dbFile` to `dest` (which must not exist yet) and checks the copy. */
export async function backupSqlite(dbFile: string, dest: string): Promise<BackupSummary> {
  if (!existsSync(dbFile)) throw new Error(`no database at ${dbFile}`);
  if (existsSync(dest)) throw new Error(`${dest} exists already: a backup never overwrites`);
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    await db.backup(dest);
  } finally {
    db.close();
  }
  return summarise(dest);
}

/**
 * Replaces the database at `dbFile` with the backup `src`, after checking the backup. The old database is kept
 * beside it as `<dbFile>.before-restore` until the next restore, so a mistaken restore can be undone by hand.
 */
export function restoreSqlite(src: string, dbFile: string): BackupSummary {
  const summary = summarise(src);
  if (existsSync(dbFile)) {
    // An exclusive lock fails while a gateway holds the database open.
    const db = new Database(dbFile, { fileMustExist: true, timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      throw new Error(`${dbFile} is in use: stop the gateway before restoring`, { cause: err });
    } finally {
      db.close();
    }
    rmSync(`${dbFile}.before-restore`, { force: true });
    renameSync(dbFile, `${dbFile}.before-restore`);
  }
  for (const suffix of ['-wal', '-shm']) rmSync(`${dbFile}${suffix}`, { force: true });
  copyFileSync(src, `${dbFile}.restoring`);
  renameSync(`${dbFile}.restoring`, dbFile);
  return { ...summary, file: dbFile };
}
