// Indexes that keep search and the duplicate check flat as the store grows (see search-plan.ts for how they are
// used). Each scope alternative the access policy builds — its own records (author), a form it holds for an insurer
// (form, insurer_number), and either narrowed to one form by a `type` clause (author, form) — has an index that
// yields its records newest first, so a page stops after the rows it needs; (updated_ms, id) ends each of them,
// which is the search order and the keyset cursor. The value index carries system and id, so a clause's matches
// (and the duplicate check, identifier system|value) are read from the index alone; the owner index carries param
// and value, so "does this record also match clause c" is one index probe. The old indexes are prefixes of the
// new ones and are dropped.
import type { Migration } from './migration.js';

const SQL = `
DROP INDEX search_index_lookup;
CREATE INDEX search_index_value ON search_index (type, param, value, system, id);
DROP INDEX search_index_owner;
CREATE INDEX search_index_owner ON search_index (type, id, param, value);
DROP INDEX resources_scope;
CREATE INDEX resources_form_insurer ON resources (type, form, insurer_number, updated_ms, id);
DROP INDEX resources_updated;
CREATE INDEX resources_updated ON resources (type, updated_ms, id);
CREATE INDEX resources_author ON resources (type, author, updated_ms, id);
CREATE INDEX resources_author_form ON resources (type, author, form, updated_ms, id);
`;

export const searchIndexes: Migration = {
  version: 2,
  name: 'search-indexes',
  sqlite: SQL,
  postgresql: SQL,
};
