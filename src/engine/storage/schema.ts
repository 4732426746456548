// The tables both SQL stores use, and the row → record mapping they share. Only the JSON column type and the
// big-integer type differ between the dialects.
import type { AccessTag, StoredRecord } from './store.js';

export function schemaSql(dialect: 'sqlite' | 'postgresql'): string {
  const json = dialect === 'postgresql' ? 'JSONB' : 'TEXT';
  const bigint = dialect === 'postgresql' ? 'BIGINT' : 'INTEGER';
  return `
CREATE TABLE IF NOT EXISTS resources (
  type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
  last_updated TEXT NOT NULL, last_updated_local TEXT NOT NULL, updated_ms ${bigint} NOT NULL,
  author TEXT NOT NULL, form TEXT, insurer_number TEXT, insured_number TEXT,
  content ${json} NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE TABLE IF NOT EXISTS resource_history (
  type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, last_updated TEXT NOT NULL, content ${json} NOT NULL,
  PRIMARY KEY (type, id, version)
);
CREATE TABLE IF NOT EXISTS search_index (
  type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, system TEXT, value TEXT NOT NULL, high TEXT
);
CREATE INDEX IF NOT EXISTS search_index_lookup ON search_index (type, param, value);
CREATE INDEX IF NOT EXISTS search_index_owner ON search_index (type, id);
CREATE INDEX IF NOT EXISTS resources_scope ON resources (type, form, insurer_number);
CREATE INDEX IF NOT EXISTS resources_updated ON resources (type, updated_ms);
`;
}

export interface ResourceRow {
  author: string;
  form: string | null;
  insurer_number: string | null;
  insured_number: string | null;
  /** JSON text (SQLite) or already parsed (PostgreSQL JSONB) */
  content: string | StoredRecord['resource'];
}

export function rowToRecord(row: ResourceRow): StoredRecord {
  const access: AccessTag = { author: row.author };
  if (row.form !== null) access.form = row.form;
  if (row.insurer_number !== null) access.insurerNumber = row.insurer_number;
  if (row.insured_number !== null) access.insuredNumber = row.insured_number;
  const resource =
    typeof row.content === 'string' ? (JSON.parse(row.content) as StoredRecord['resource']) : row.content;
  return { resource, access };
}
