// The one write path of both stores: which rows a put() leaves behind is decided here. A put makes the next
// version of a resource: the current row in `resources` (content plus the access tag and times searches filter
// and sort on) and the resource's search rows replaced. Each version is stored once: the current one in
// `resources`, and when a put supersedes it, its row moves to `resource_history` (copied inside the database,
// never through here), which so holds superseded versions only.
import { isoWithOffset } from '../../base/clock.js';
import { storedContent } from './content-codec.js';
import type { SqlExec } from './sql-exec.js';
import type { StoredRecord, WriteRecord } from './store.js';

const UPSERT_RESOURCE = `INSERT INTO resources
    (type, id, version, last_updated, last_updated_local, updated_ms,
     author, form, insurer_number, insured_number, content)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated,
    last_updated_local = excluded.last_updated_local, updated_ms = excluded.updated_ms, author = excluded.author,
    form = excluded.form, insurer_number = excluded.insurer_number, insured_number = excluded.insured_number,
    content = excluded.content`;

// A history row of the version being superseded may exist already: code before migration 3 wrote one for every
// version when it was current (a node not yet upgraded still does), with the same content, so it is kept.
const KEEP_SUPERSEDED = `INSERT INTO resource_history (type, id, version, last_updated, content)
  SELECT type, id, version, last_updated, content FROM resources WHERE type = ? AND id = ?
  ON CONFLICT (type, id, version) DO NOTHING`;

/** Must run inside the caller's transaction. */
export async function putRecord(db: SqlExec, rec: WriteRecord): Promise<StoredRecord> {
  const { resourceType: type, id } = rec.resource;
  // PostgreSQL: lock the current row, so two nodes versioning one resource cannot both read version n. SQLite has a
  // single writer and no such syntax.
  const lock = db.dialect === 'postgresql' ? ' FOR UPDATE' : '';
  const [prev] = await db.all<{ version: number }>(`SELECT version FROM resources WHERE type = ? AND id = ?${lock}`, [
    type,
    id,
  ]);
  const version = (prev?.version ?? 0) + 1;
  const now = new Date();
  const lastUpdated = isoWithOffset(now);
  const resource = {
    ...rec.resource,
    meta: { ...(rec.resource.meta ?? {}), versionId: String(version), lastUpdated },
  } as StoredRecord['resource'];
  const content = storedContent(db.dialect, JSON.stringify(resource));
  if (prev) await db.run(KEEP_SUPERSEDED, [type, id]);
  await db.run(UPSERT_RESOURCE, [
    type,
    id,
    version,
    lastUpdated,
    // local wall-clock time as written, for _lastUpdated searches (compared like the other dates)
    lastUpdated.slice(0, 19),
    now.getTime(),
    rec.access.author,
    rec.access.form ?? null,
    rec.access.insurerNumber ?? null,
    rec.access.insuredNumber ?? null,
    content,
  ]);
  await db.run('DELETE FROM search_index WHERE type = ? AND id = ?', [type, id]);
  await db.runEach(
    'INSERT INTO search_index (type, id, param, system, value, high) VALUES (?, ?, ?, ?, ?, ?)',
    rec.index.map((row) => [type, id, row.param, row.system ?? null, row.value, row.high ?? null]),
  );
  return { resource, access: rec.access };
}
