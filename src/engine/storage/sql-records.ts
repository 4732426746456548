// Reading stored records, the same for both stores: the columns a record is made of, the row → record mapping,
// the fixed reads (by id; by business identifier), and where a given version of a resource lives.
import { parseContent, type ContentValue } from './content-codec.js';
import type { SqlExec } from './sql-exec.js';
import type { AccessTag, StoredRecord } from './store.js';

export interface ResourceRow {
  author: string;
  form: string | null;
  insurer_number: string | null;
  insured_number: string | null;
  /** compressed JSON (SQLite BLOB), JSON text (SQLite rows from before migration 3), or parsed (PostgreSQL JSONB) */
  content: ContentValue;
}

const RECORD_COLUMNS = ['author', 'form', 'insurer_number', 'insured_number', 'content'] as const;

/** The select list of a record, qualified by the table alias the search SQL uses. */
export const recordColumns = (alias: string): string => RECORD_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

export function rowToRecord(row: ResourceRow): StoredRecord {
  const access: AccessTag = { author: row.author };
  if (row.form !== null) access.form = row.form;
  if (row.insurer_number !== null) access.insurerNumber = row.insurer_number;
  if (row.insured_number !== null) access.insuredNumber = row.insured_number;
  return { resource: parseContent<StoredRecord['resource']>(row.content), access };
}

export async function readRecord(db: SqlExec, type: string, id: string): Promise<StoredRecord | undefined> {
  const [row] = await db.all<ResourceRow>(
    `SELECT ${RECORD_COLUMNS.join(', ')} FROM resources WHERE type = ? AND id = ?`,
    [type, id],
  );
  return row ? rowToRecord(row) : undefined;
}

/**
 * The duplicate check of every POST: one range of search_index_value (type, param, value, system, id), whatever the
 * store holds. Not DISTINCT in SQL: to produce unique ids SQLite would read the owner index in id order, every index
 * row of the type (what made this check grow with the store).
 */
export async function findIdsByIdentifier(db: SqlExec, type: string, system: string, value: string): Promise<string[]> {
  const rows = await db.all<{ id: string }>(
    `SELECT id FROM search_index WHERE type = ? AND param = 'identifier' AND value = ? AND system = ?`,
    [type, value, system],
  );
  return [...new Set(rows.map((r) => r.id))];
}

/**
 * One version of a resource as it was stored: the current version is in `resources`, a superseded one in
 * `resource_history` (see sql-write.ts). Undefined when there is no such version.
 */
export async function readVersion(
  db: SqlExec,
  type: string,
  id: string,
  version: number,
): Promise<StoredRecord['resource'] | undefined> {
  const [row] = await db.all<{ content: ContentValue }>(
    `SELECT content FROM resources WHERE type = ? AND id = ? AND version = ?
     UNION ALL SELECT content FROM resource_history WHERE type = ? AND id = ? AND version = ?`,
    [type, id, version, type, id, version],
  );
  return row ? parseContent<StoredRecord['resource']>(row.content) : undefined;
}
