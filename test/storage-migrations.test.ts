// Versioned schema migrations, on both stores: a fresh database ends at the latest version, opening again
// applies nothing, each migration commits or rolls back on its own, a database newer than the code is refused,
// several PostgreSQL nodes starting at once migrate once, and migration 1 is exactly the pre-migration schema.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { initial } from '../src/engine/storage/migrations/0001-initial.js';
import { MIGRATIONS } from '../src/engine/storage/migrations/index.js';
import type { Migration } from '../src/engine/storage/migrations/migration.js';
import { migratePg } from '../src/engine/storage/migrations/run-pg.js';
import { migrateSqlite } from '../src/engine/storage/migrations/run-sqlite.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { startTestPg, type TestPg } from './support/pg.js';

const FIXTURE = new URL('./fixtures/storage-v1/', import.meta.url);
const LOCAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+09:00$/;
const LATEST = MIGRATIONS.map((m) => ({ version: m.version, name: m.name }));

interface LedgerRow {
  version: number;
  name: string;
  applied_at: string;
}

// Test migrations after the real ones. `probe` is not idempotent (CREATE TABLE), so running it twice would fail.
const next = MIGRATIONS.length + 1;
const probe: Migration = {
  version: next,
  name: 'probe',
  sqlite: 'CREATE TABLE probe (n INTEGER NOT NULL); INSERT INTO probe VALUES (1);',
  postgresql: 'CREATE TABLE probe (n INTEGER NOT NULL); INSERT INTO probe VALUES (1);',
};
// A step SQL alone cannot express: reads rows and writes them back changed.
const rewrite: Migration = {
  version: next + 1,
  name: 'rewrite-probe',
  sqlite: (db) => {
    for (const r of db.prepare('SELECT n FROM probe').all() as Array<{ n: number }>)
      db.prepare('UPDATE probe SET n = ? WHERE n = ?').run(r.n * 10, r.n);
  },
  postgresql: async (db) => {
    for (const r of (await db.query<{ n: number }>('SELECT n FROM probe')).rows)
      await db.query('UPDATE probe SET n = $1 WHERE n = $2', [r.n * 10, r.n]);
  },
};
// Fails half-way: its first statement must not survive.
const broken: Migration = {
  version: next + 2,
  name: 'broken',
  sqlite: 'CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);',
  postgresql: 'CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);',
};

describe('schema migrations', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'kaigo-migrations-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const newFile = (): string => join(dir, `${Date.now()}-${Math.random()}.sqlite`);

  it('the list is 1, 2, 3, … and migration 1 is the initial schema', () => {
    expect(MIGRATIONS.map((m) => m.version)).to.deep.equal(MIGRATIONS.map((_, i) => i + 1));
    expect(MIGRATIONS[0]).to.equal(initial);
    expect(() => migrateSqlite(new Database(':memory:'), { migrations: [initial, rewrite] })).to.throw(
      /out of order: position 2 holds version/,
    );
  });

  describe('sqlite', () => {
    const ledger = (file: string): LedgerRow[] => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT * FROM schema_migrations ORDER BY version').all() as LedgerRow[];
      } finally {
        db.close();
      }
    };

    it('a fresh store ends at the latest version, applied_at in local time with its offset', async () => {
      const file = newFile();
      await new SqliteStore(file).close();
      const rows = ledger(file);
      expect(rows.map(({ version, name }) => ({ version, name }))).to.deep.equal(LATEST);
      for (const r of rows) expect(r.applied_at).to.match(LOCAL_INSTANT);
    });

    it('opening again applies nothing', async () => {
      const file = newFile();
      await new SqliteStore(file).close();
      const first = ledger(file);
      await new SqliteStore(file).close();
      expect(ledger(file)).to.deep.equal(first);

      const db = new Database(file);
      try {
        expect(migrateSqlite(db, { migrations: [...MIGRATIONS, probe] })).to.deep.equal([probe.version]);
        expect(migrateSqlite(db, { migrations: [...MIGRATIONS, probe] })).to.deep.equal([]);
        expect(db.prepare('SELECT COUNT(*) AS n FROM probe').get()).to.deep.equal({ n: 1 });
      } finally {
        db.close();
      }
    });

    it('each migration is its own transaction: a failing one leaves the database at the previous version', () => {
      const db = new Database(newFile());
      try {
        const err = (() => {
          try {
            migrateSqlite(db, { migrations: [...MIGRATIONS, probe, rewrite, broken] });
          } catch (e) {
            return e as Error;
          }
        })();
        expect(err?.message).to.match(
          new RegExp(`schema migration ${broken.version} \\(broken\\) failed: no such table`),
        );
        const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
        expect(versions).to.deep.equal([...MIGRATIONS, probe, rewrite].map((m) => m.version));
        expect(db.prepare('SELECT n FROM probe').pluck().all()).to.deep.equal([10]); // the function step ran once
        const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
        expect(tables).to.include('probe').and.not.include('half_done');
      } finally {
        db.close();
      }
    });

    it('refuses to open a database migrated by a newer gateway, and leaves it as it was', async () => {
      const file = newFile();
      await new SqliteStore(file).close();
      const db = new Database(file);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(next + 5, 'from-the-future', '2030-01-01');
      db.close();
      const before = ledger(file);
      expect(() => new SqliteStore(file)).to.throw(
        new RegExp(`schema is at version ${next + 5} \\(from-the-future\\), newer than this gateway knows`),
      );
      expect(ledger(file)).to.deep.equal(before);
    });

    it('refuses a database whose migration N is a different one (another build)', () => {
      const db = new Database(newFile());
      try {
        migrateSqlite(db);
        db.prepare('UPDATE schema_migrations SET name = ? WHERE version = 1').run('something-else');
        expect(() => migrateSqlite(db)).to.throw(/records schema version 1 as 'something-else'.*different build/);
      } finally {
        db.close();
      }
    });

    it('migration 1 creates exactly the schema of a database written before migrations', () => {
      const schema = (db: Database.Database): unknown[] =>
        db
          .prepare(
            `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name <> 'schema_migrations' ORDER BY name`,
          )
          .all();
      const legacyFile = newFile();
      copyFileSync(new URL('kaigo-gateway.sqlite', FIXTURE), legacyFile);
      const legacy = new Database(legacyFile, { readonly: true });
      const fresh = new Database(':memory:');
      try {
        migrateSqlite(fresh, { migrations: [initial] });
        expect(schema(fresh)).to.have.length(9); // 3 tables, 4 indexes, 2 primary-key indexes
        expect(schema(fresh)).to.deep.equal(schema(legacy));
      } finally {
        legacy.close();
        fresh.close();
      }
    });
  });

  describe('postgresql', () => {
    let server: TestPg;
    before(async () => (server = await startTestPg()));
    after(() => server?.stop());

    const withClient = async <T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return await fn(c);
      } finally {
        await c.end();
      }
    };
    const ledger = (url: string): Promise<LedgerRow[]> =>
      withClient(url, async (c) => (await c.query<LedgerRow>('SELECT * FROM schema_migrations ORDER BY version')).rows);

    it('a fresh store ends at the latest version, applied_at in local time with its offset', async () => {
      const url = await server.newDatabase();
      await (await PgStore.connect(url)).close();
      const rows = await ledger(url);
      expect(rows.map(({ version, name }) => ({ version, name }))).to.deep.equal(LATEST);
      for (const r of rows) expect(r.applied_at).to.match(LOCAL_INSTANT);
    });

    it('opening again applies nothing', async () => {
      const url = await server.newDatabase();
      await (await PgStore.connect(url)).close();
      const first = await ledger(url);
      await (await PgStore.connect(url)).close();
      expect(await ledger(url)).to.deep.equal(first);
      await withClient(url, async (c) => {
        expect(await migratePg(c, { migrations: [...MIGRATIONS, probe] })).to.deep.equal([probe.version]);
        expect(await migratePg(c, { migrations: [...MIGRATIONS, probe] })).to.deep.equal([]);
        expect((await c.query('SELECT COUNT(*)::int AS n FROM probe')).rows).to.deep.equal([{ n: 1 }]);
      });
    });

    it('each migration is its own transaction: a failing one leaves the database at the previous version', async () => {
      const url = await server.newDatabase();
      await withClient(url, async (c) => {
        const err = await migratePg(c, { migrations: [...MIGRATIONS, probe, rewrite, broken] }).catch((e: Error) => e);
        expect((err as Error).message).to.match(
          new RegExp(`schema migration ${broken.version} \\(broken\\) failed: relation "no_such_table" does not exist`),
        );
        const versions = (await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map(
          (r) => r.version,
        );
        expect(versions).to.deep.equal([...MIGRATIONS, probe, rewrite].map((m) => m.version));
        expect((await c.query('SELECT n FROM probe')).rows).to.deep.equal([{ n: 10 }]);
        expect((await c.query(`SELECT to_regclass('half_done') AS t`)).rows[0].t).to.equal(null);
        // the lock was given back: another session can take it at once
        await withClient(url, async (other) => {
          const got = await other.query('SELECT pg_try_advisory_lock(727274) AS ok');
          expect(got.rows[0].ok).to.equal(true);
        });
      });
    });

    it('refuses to open a database migrated by a newer gateway', async () => {
      const url = await server.newDatabase();
      await (await PgStore.connect(url)).close();
      await withClient(url, (c) =>
        c.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [next + 5, 'from-the-future', '2030-01-01']),
      );
      const err = await PgStore.connect(url).catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      expect((err as Error).message).to.match(
        new RegExp(`schema is at version ${next + 5} \\(from-the-future\\), newer than this gateway knows`),
      );
    });

    it('several nodes starting at once: one migrates, the others wait and find nothing to do', async () => {
      const url = await server.newDatabase();
      // a slow last step, so the nodes really overlap; probe's CREATE TABLE would fail if two ran it
      const slow: Migration = { ...probe, postgresql: `SELECT pg_sleep(0.3); ${probe.postgresql}` };
      const runs = await Promise.all(
        [1, 2, 3, 4].map(() => withClient(url, (c) => migratePg(c, { migrations: [...MIGRATIONS, slow] }))),
      );
      const all = [...MIGRATIONS, slow].map((m) => m.version);
      expect(runs.filter((r) => r.length > 0)).to.deep.equal([all]);
      expect((await ledger(url)).map((r) => r.version)).to.deep.equal(all);

      // and through the store, on a fresh database
      const url2 = await server.newDatabase();
      const stores = await Promise.all([1, 2, 3].map(() => PgStore.connect(url2)));
      await Promise.all(stores.map((s) => s.close()));
      expect((await ledger(url2)).map((r) => r.version)).to.deep.equal(MIGRATIONS.map((m) => m.version));
    });

    it('migration 1 creates exactly the schema the code before migrations created', async () => {
      const catalog = (url: string): Promise<unknown[][]> =>
        withClient(url, async (c) => [
          (
            await c.query(
              `SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default
               FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
               ORDER BY table_name, ordinal_position`,
            )
          ).rows,
          (
            await c.query(
              `SELECT tablename, indexname, indexdef FROM pg_indexes
               WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY indexname`,
            )
          ).rows,
        ]);
      const legacyUrl = await server.newDatabase();
      await withClient(legacyUrl, (c) => c.query(readFileSync(new URL('schema-v1-postgresql.sql', FIXTURE), 'utf8')));
      const freshUrl = await server.newDatabase();
      await withClient(freshUrl, (c) => migratePg(c, { migrations: [initial] }));
      const [columns, indexes] = await catalog(freshUrl);
      expect(columns).to.have.length(11 + 5 + 6);
      expect(indexes).to.have.length(6);
      expect([columns, indexes]).to.deep.equal(await catalog(legacyUrl));
    });
  });
});
