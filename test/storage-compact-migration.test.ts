// Migration 3 (compact-storage) on a database as the code before it wrote it: a history row for every version,
// the current one included, and (SQLite) JSON text content. More rows than two of its batches, some resources at
// version 3. Afterwards history holds the superseded versions only, every read gives the very JSON that was
// written, and the SQLite file is smaller.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { contentJson } from '../src/engine/storage/content-codec.js';
import { BATCH_ROWS } from '../src/engine/storage/migrations/0003-compact-storage.js';
import { MIGRATIONS } from '../src/engine/storage/migrations/index.js';
import { migratePg } from '../src/engine/storage/migrations/run-pg.js';
import { migrateSqlite } from '../src/engine/storage/migrations/run-sqlite.js';
import { pgExec } from '../src/engine/storage/pg-exec.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import type { SqlExec } from '../src/engine/storage/sql-exec.js';
import { readVersion } from '../src/engine/storage/sql-records.js';
import { SqliteExec } from '../src/engine/storage/sqlite-exec.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { Store } from '../src/engine/storage/store.js';
import { startTestPg, type TestPg } from './support/pg.js';

const BEFORE_3 = MIGRATIONS.filter((m) => m.version < 3);
const RESOURCES = 2 * BATCH_ROWS + 88;
/** every tenth resource was versioned twice more */
const versionsOf = (i: number): number => (i % 10 === 0 ? 3 : 1);

interface Version {
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  json: string;
}

/** The versions the old write path stored, each as the JSON text it wrote (key order as JSON.stringify gave it). */
function oldVersions(): Version[] {
  const out: Version[] = [];
  for (let i = 0; i < RESOURCES; i++)
    for (let v = 1; v <= versionsOf(i); v++) {
      const lastUpdated = `2026-11-${String(1 + (i % 28)).padStart(2, '0')}T10:00:0${v}.000+09:00`;
      const resource = {
        resourceType: 'Patient',
        id: `p${i}`,
        name: [{ text: `介護 花子 ${i}`, given: ['花子'] }],
        address: [{ text: `東京都千代田区神田駿河台${i}丁目 `.repeat(20) }],
        meta: { versionId: String(v), lastUpdated },
      };
      out.push({ type: 'Patient', id: `p${i}`, version: v, lastUpdated, json: JSON.stringify(resource) });
    }
  return out;
}

const byIdAndVersion = (a: { id: string; version: number }, b: { id: string; version: number }): number =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version;

const isCurrent = (v: Version): boolean => v.version === versionsOf(Number(v.id.slice(1)));

/** Rows exactly as putRecord wrote them before migration 3, through any connection. */
async function writeTheOldWay(db: SqlExec, versions: readonly Version[]): Promise<void> {
  for (const v of versions) {
    await db.run('INSERT INTO resource_history (type, id, version, last_updated, content) VALUES (?, ?, ?, ?, ?)', [
      v.type,
      v.id,
      v.version,
      v.lastUpdated,
      v.json,
    ]);
    if (!isCurrent(v)) continue;
    await db.run(
      `INSERT INTO resources (type, id, version, last_updated, last_updated_local, updated_ms, author, form,
         insurer_number, insured_number, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        v.type,
        v.id,
        v.version,
        v.lastUpdated,
        v.lastUpdated.slice(0, 19),
        Date.parse(v.lastUpdated),
        'medical-institution:1311234567',
        'shujii-ikensho',
        '131011',
        null,
        v.json,
      ],
    );
  }
}

/** What every migrated database must hold: checked through the shared read path and through a store. */
async function holdsEveryVersion(db: SqlExec, store: Store, versions: readonly Version[], exactJson: boolean) {
  for (const v of versions) {
    const old = await readVersion(db, v.type, v.id, v.version);
    expect(old, `${v.id} v${v.version}`).to.deep.equal(JSON.parse(v.json));
    if (exactJson) expect(JSON.stringify(old)).to.equal(v.json);
    if (!isCurrent(v)) continue;
    const rec = await store.read(v.type, v.id);
    expect(rec?.resource).to.deep.equal(JSON.parse(v.json));
    if (exactJson) expect(JSON.stringify(rec?.resource)).to.equal(v.json);
  }
}

describe('migration 3 (compact-storage) on data the code before it wrote', function () {
  this.timeout(120_000);
  const versions = oldVersions();
  const superseded = versions.filter((v) => !isCurrent(v));
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'kaigo-compact-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the data is worth testing: more rows than two batches, superseded versions among them', () => {
    expect(RESOURCES).to.be.above(2 * BATCH_ROWS);
    expect(superseded.length).to.equal(2 * Math.ceil(RESOURCES / 10));
  });

  it('sqlite: history keeps the superseded versions only, all content compressed, the file smaller', async () => {
    const file = join(dir, 'kaigo-gateway.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    migrateSqlite(db, { migrations: BEFORE_3 });
    db.exec('BEGIN');
    await writeTheOldWay(new SqliteExec(db), versions);
    db.exec('COMMIT');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const before = statSync(file).size;

    expect(migrateSqlite(db)).to.deep.equal([3]);
    const history = db.prepare('SELECT id, version FROM resource_history ORDER BY id, version').all();
    expect(history).to.deep.equal(superseded.map((v) => ({ id: v.id, version: v.version })).sort(byIdAndVersion));
    for (const table of ['resources', 'resource_history'])
      expect(db.prepare(`SELECT DISTINCT typeof(content) AS t FROM ${table}`).all()).to.deep.equal([{ t: 'blob' }]);
    const blob = db.prepare(`SELECT content FROM resources WHERE id = 'p1'`).pluck().get() as Buffer;
    expect(contentJson(blob)).to.equal(versions.find((v) => v.id === 'p1')!.json);
    db.close();
    // vacuumed and checkpointed by the migration: the file alone is the database
    expect(statSync(file).size).to.be.below(before / 2);

    const store = new SqliteStore(file);
    const reader = new Database(file, { readonly: true });
    try {
      await holdsEveryVersion(new SqliteExec(reader), store, versions, true);
    } finally {
      reader.close();
      await store.close();
    }
  });

  describe('postgresql', () => {
    let server: TestPg;
    before(async () => (server = await startTestPg()));
    after(() => server?.stop());

    it('history keeps the superseded versions only', async () => {
      const url = await server.newDatabase();
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      try {
        const c = await pool.connect();
        try {
          await migratePg(c, { migrations: BEFORE_3 });
          await writeTheOldWay(pgExec(c), versions);
          expect(await migratePg(c)).to.deep.equal([3]);
          const history = await c.query('SELECT id, version FROM resource_history ORDER BY id, version');
          expect(history.rows).to.deep.equal(
            superseded.map((v) => ({ id: v.id, version: v.version })).sort(byIdAndVersion),
          );
        } finally {
          c.release();
        }
        const store = await PgStore.connect(url);
        try {
          await holdsEveryVersion(pgExec(pool), store, versions, false);
        } finally {
          await store.close();
        }
      } finally {
        await pool.end();
      }
    });
  });
});
