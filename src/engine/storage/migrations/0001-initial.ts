// The schema as it was before versioned migrations. A database written by that code has exactly these tables
// and is recorded as version 1 when first opened (see ledger.ts), so this text must stay as it is.
import type { Migration } from './migration.js';

const schema = (json: string, bigint: string): string => `
CREATE TABLE resources (
  type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
  last_updated TEXT NOT NULL, last_updated_local TEXT NOT NULL, updated_ms ${bigint} NOT NULL,
  author TEXT NOT NULL, form TEXT, insurer_number TEXT, insured_number TEXT,
  content ${json} NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE TABLE resource_history (
  type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, last_updated TEXT NOT NULL, content ${json} NOT NULL,
  PRIMARY KEY (type, id, version)
);
CREATE TABLE search_index (
  type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, system TEXT, value TEXT NOT NULL, high TEXT
);
CREATE INDEX search_index_lookup ON search_index (type, param, value);
CREATE INDEX search_index_owner ON search_index (type, id);
CREATE INDEX resources_scope ON resources (type, form, insurer_number);
CREATE INDEX resources_updated ON resources (type, updated_ms);
`;

export const initial: Migration = {
  version: 1,
  name: 'initial',
  sqlite: schema('TEXT', 'INTEGER'),
  postgresql: schema('JSONB', 'BIGINT'),
};
