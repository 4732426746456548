// The exact search-row lookup both stores' transactions share (StoreTx.findByIndexRow): ids of the resources of one
// type that carry one search row, through the (type, param, value) index, so it costs the same at any store size.
import type { SqlExec } from './sql-exec.js';
import type { IndexRow } from './store.js';

// No DISTINCT in the SQL: with it SQLite prefers walking search_index_owner (every row of the type, to produce ids
// in order) over search_index_lookup. A resource holds a row once, but duplicates are dropped here all the same.
const WITH_SYSTEM = 'SELECT id FROM search_index WHERE type = ? AND param = ? AND value = ? AND system = ?';
const WITHOUT_SYSTEM = 'SELECT id FROM search_index WHERE type = ? AND param = ? AND value = ? AND system IS NULL';

export async function findIdsByIndexRow(
  db: SqlExec,
  type: string,
  row: Pick<IndexRow, 'param' | 'system' | 'value'>,
): Promise<string[]> {
  const rows =
    row.system === undefined
      ? await db.all<{ id: string }>(WITHOUT_SYSTEM, [type, row.param, row.value])
      : await db.all<{ id: string }>(WITH_SYSTEM, [type, row.param, row.value, row.system]);
  return [...new Set(rows.map((r) => r.id))];
}
