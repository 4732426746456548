// Each version stored once, and SQLite content compressed (see sql-write.ts and content-codec.ts). Code before
// this step wrote a history row for every version, the current one included, so every current version was
// stored twice; and SQLite content was JSON text. This step brings rows written that way to the new layout:
// history rows of current versions go (the same content is in `resources`), and on SQLite every TEXT content
// becomes a compressed BLOB.
//
// On SQLite the step walks each table by rowid in batches, so only one batch of rows is ever in memory however
// large the database (SQLite spills the transaction's changed pages to the WAL as its page cache fills). The
// rewrite frees many pages, which a SQLite file keeps (as free pages) unless it is vacuumed, hence
// `vacuumSqliteAfter`.
// PostgreSQL keeps JSONB, which it compresses itself (TOAST, pglz: lz4 measured no smaller on these documents),
// so only the history rows go, in one statement the server runs as a join (nothing comes to the client);
// autovacuum makes their space reusable without locking writers out.
import type Database from 'better-sqlite3';
import { compressJson } from '../content-codec.js';
import type { Migration } from './migration.js';

export const BATCH_ROWS = 256;
/** SQLite assigns rowids from 1 upwards, and nothing in this code sets one. */
const BEFORE_FIRST_ROWID = 0n;

/**
 * Visits every row `select` walks, in rowid order, `BATCH_ROWS` at a time: given the last rowid seen and the batch
 * size, it must return the next rows, each with its rowid as `k` (a bigint, as safeIntegers reads it).
 */
function inBatches<R extends { k: bigint }>(select: Database.Statement, visit: (row: R) => void): void {
  select.safeIntegers(true);
  for (let after = BEFORE_FIRST_ROWID; ;) {
    const rows = select.all(after, BATCH_ROWS) as R[];
    if (rows.length === 0) return;
    for (const row of rows) visit(row);
    after = rows[rows.length - 1]!.k;
  }
}

function sqlite(db: Database.Database): void {
  const dropCurrent = db.prepare('DELETE FROM resource_history WHERE type = ? AND id = ? AND version = ?');
  const compress = (table: string) => {
    const update = db.prepare(`UPDATE ${table} SET content = ? WHERE rowid = ?`);
    return (row: { k: bigint; json_text: string | null }) => {
      if (row.json_text !== null) update.run(compressJson(row.json_text), row.k);
    };
  };
  // Only TEXT content is read (a BLOB is compressed already).
  const onlyText = `CASE WHEN typeof(content) = 'text' THEN content END AS json_text`;

  const compressResource = compress('resources');
  inBatches<{ k: bigint; type: string; id: string; version: bigint; json_text: string | null }>(
    db.prepare(
      `SELECT rowid AS k, type, id, version, ${onlyText} FROM resources WHERE rowid > ? ORDER BY rowid LIMIT ?`,
    ),
    (row) => {
      dropCurrent.run(row.type, row.id, row.version);
      compressResource(row);
    },
  );
  inBatches(
    db.prepare(`SELECT rowid AS k, ${onlyText} FROM resource_history WHERE rowid > ? ORDER BY rowid LIMIT ?`),
    compress('resource_history'),
  );
}

export const compactStorage: Migration = {
  version: 3,
  name: 'compact-storage',
  sqlite,
  postgresql: `DELETE FROM resource_history h USING resources r
    WHERE h.type = r.type AND h.id = r.id AND h.version = r.version`,
  vacuumSqliteAfter: true,
};
