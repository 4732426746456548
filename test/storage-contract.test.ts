// The Store contract, run against every implementation: embedded SQLite and PostgreSQL.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { contentJson, parseContent, type ContentValue } from '../src/engine/storage/content-codec.js';
import { pgExec } from '../src/engine/storage/pg-exec.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import type { SqlExec } from '../src/engine/storage/sql-exec.js';
import { readVersion } from '../src/engine/storage/sql-records.js';
import { SqliteExec } from '../src/engine/storage/sqlite-exec.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { allOf, anyOf, eq, NO_ROWS } from '../src/engine/storage/row-filter.js';
import type { ReadScope, Store, WriteRecord } from '../src/engine/storage/store.js';
import { startTestPg, type TestPg } from './support/pg.js';

const ALL: ReadScope = anyOf(
  allOf(eq('author', 'medical-institution:1311234567')),
  allOf(eq('form', 'shujii-ikensho'), eq('insurerNumber', '131011')),
);

function rec(id: string, over: Partial<WriteRecord> = {}): WriteRecord {
  return {
    resource: { resourceType: 'Patient', id, name: [{ text: `患者 ${id}` }] } as WriteRecord['resource'],
    access: { author: 'medical-institution:1311234567', form: 'shujii-ikensho', insurerNumber: '131011' },
    index: [
      { param: 'identifier', system: 'urn:test', value: id },
      { param: 'name', value: `患者 ${id}` },
      { param: 'birthdate', value: '1940-03-01T00:00:00', high: '1940-03-01T23:59:59' },
    ],
    ...over,
  };
}

let pgServer: TestPg | undefined;
let sqliteDir: string;

describe('Store contract', function () {
  this.timeout(60_000);
  before(async () => {
    sqliteDir = mkdtempSync(join(tmpdir(), 'kaigo-store-'));
    pgServer = await startTestPg();
  });
  after(() => {
    pgServer?.stop();
    rmSync(sqliteDir, { recursive: true, force: true });
  });

  for (const kind of ['sqlite', 'postgresql'] as const) {
    describe(kind, () => {
      let store: Store;
      let location: string;
      beforeEach(async () => {
        location =
          kind === 'sqlite' ? join(sqliteDir, `${Date.now()}-${Math.random()}.sqlite`) : await pgServer!.newDatabase();
        store = kind === 'sqlite' ? new SqliteStore(location) : await PgStore.connect(location);
      });
      afterEach(async () => store.close());

      /** The rows as stored, read beside the store (what the one shared write path leaves behind). */
      const rows = async (sql: string): Promise<unknown[]> => {
        if (kind === 'sqlite') {
          const db = new Database(location, { readonly: true });
          try {
            return db.prepare(sql).all();
          } finally {
            db.close();
          }
        }
        const c = new pg.Client({ connectionString: location });
        await c.connect();
        try {
          return (await c.query(sql)).rows;
        } finally {
          await c.end();
        }
      };

      /** The shared read path over a connection of its own, beside the store. */
      const withExec = async <T>(fn: (db: SqlExec) => Promise<T>): Promise<T> => {
        if (kind === 'sqlite') {
          const db = new Database(location, { readonly: true });
          try {
            return await fn(new SqliteExec(db));
          } finally {
            db.close();
          }
        }
        const pool = new pg.Pool({ connectionString: location, max: 1 });
        try {
          return await fn(pgExec(pool));
        } finally {
          await pool.end();
        }
      };

      // Each version is stored once: the current one in `resources`, superseded ones in `resource_history`.
      it('writes the current row, moves the superseded version to history, and replaces the search rows', async () => {
        const first = await store.transaction((tx) => tx.put(rec('a')));
        const second = await store.transaction((tx) =>
          tx.put(rec('a', { index: [{ param: 'identifier', system: 'urn:test', value: 'a2' }] })),
        );
        expect(
          await rows(
            `SELECT type, id, version, last_updated, author, form, insurer_number, insured_number FROM resources`,
          ),
        ).to.deep.equal([
          {
            type: 'Patient',
            id: 'a',
            version: 2,
            last_updated: second.resource.meta.lastUpdated,
            author: 'medical-institution:1311234567',
            form: 'shujii-ikensho',
            insurer_number: '131011',
            insured_number: null,
          },
        ]);
        const [times] = (await rows(`SELECT last_updated_local, updated_ms FROM resources`)) as Array<{
          last_updated_local: string;
          updated_ms: number | string;
        }>;
        expect(times!.last_updated_local).to.equal(second.resource.meta.lastUpdated.slice(0, 19));
        expect(Number(times!.updated_ms)).to.equal(Date.parse(second.resource.meta.lastUpdated));
        const history = (await rows(
          `SELECT id, version, last_updated, content FROM resource_history ORDER BY version`,
        )) as Array<{ id: string; version: number; last_updated: string; content: ContentValue }>;
        expect(history.map((h) => [h.id, h.version, h.last_updated])).to.deep.equal([
          ['a', 1, first.resource.meta.lastUpdated],
        ]);
        expect(parseContent(history[0]!.content)).to.deep.equal(first.resource);
        const [current] = (await rows(`SELECT content FROM resources`)) as Array<{ content: ContentValue }>;
        expect(parseContent(current!.content)).to.deep.equal(second.resource);
        if (kind === 'sqlite') {
          // compressed, and exactly the JSON text the put wrote
          expect(current!.content).to.be.instanceOf(Uint8Array);
          expect(contentJson(current!.content as Uint8Array)).to.equal(JSON.stringify(second.resource));
          expect(contentJson(history[0]!.content as Uint8Array)).to.equal(JSON.stringify(first.resource));
        }
        expect(await rows(`SELECT type, id, param, system, value, high FROM search_index`)).to.deep.equal([
          { type: 'Patient', id: 'a', param: 'identifier', system: 'urn:test', value: 'a2', high: null },
        ]);

        const third = await store.transaction((tx) => tx.put(rec('a')));
        expect((await rows(`SELECT version FROM resource_history ORDER BY version`)).length).to.equal(2);
        await withExec(async (db) => {
          expect(await readVersion(db, 'Patient', 'a', 1)).to.deep.equal(first.resource);
          expect(await readVersion(db, 'Patient', 'a', 2)).to.deep.equal(second.resource);
          expect(await readVersion(db, 'Patient', 'a', 3)).to.deep.equal(third.resource);
          expect(await readVersion(db, 'Patient', 'a', 4)).to.equal(undefined);
        });
      });

      it('a history row of the current version (as code before migration 3 wrote) does not stop the next', async () => {
        const first = await store.transaction((tx) => tx.put(rec('a')));
        const copy = `INSERT INTO resource_history (type, id, version, last_updated, content)
          SELECT type, id, version, last_updated, content FROM resources`;
        if (kind === 'sqlite') {
          const db = new Database(location);
          try {
            db.exec(copy);
          } finally {
            db.close();
          }
        } else {
          const c = new pg.Client({ connectionString: location });
          await c.connect();
          await c.query(copy).finally(() => c.end());
        }
        const second = await store.transaction((tx) => tx.put(rec('a')));
        expect(second.resource.meta.versionId).to.equal('2');
        expect(
          (await rows(`SELECT version FROM resource_history`)).map((r) => (r as { version: number }).version),
        ).to.deep.equal([1]);
        await withExec(async (db) => expect(await readVersion(db, 'Patient', 'a', 1)).to.deep.equal(first.resource));
      });

      it('creates, versions and reads back resources with meta', async () => {
        const a = await store.transaction((tx) => tx.put(rec('a')));
        expect(a.resource.meta.versionId).to.equal('1');
        expect(a.resource.meta.lastUpdated).to.match(/[+-]\d{2}:\d{2}$/);
        const b = await store.transaction((tx) => tx.put(rec('a')));
        expect(b.resource.meta.versionId).to.equal('2');
        const r = await store.read('Patient', 'a');
        expect(r?.resource.meta.versionId).to.equal('2');
        expect((r?.resource as { name?: Array<{ text?: string }> }).name?.[0]?.text).to.equal('患者 a');
        expect(r?.access).to.deep.equal({
          author: 'medical-institution:1311234567',
          form: 'shujii-ikensho',
          insurerNumber: '131011',
        });
      });

      it('a failing transaction leaves nothing behind (atomic)', async () => {
        const err = await store
          .transaction(async (tx) => {
            await tx.put(rec('x1'));
            await tx.put(rec('x2'));
            throw new Error('boom');
          })
          .catch((e: Error) => e);
        expect((err as Error).message).to.equal('boom');
        expect(await store.read('Patient', 'x1')).to.equal(undefined);
        expect(await store.findByIdentifier('Patient', 'urn:test', 'x2')).to.deep.equal([]);
      });

      it('searches by token, string prefix, date and id, with paging and the access scope', async () => {
        await store.transaction(async (tx) => {
          for (let i = 0; i < 5; i++) await tx.put(rec(`p${i}`));
          await tx.put(
            rec('other', {
              access: { author: 'medical-institution:9999999999', form: 'shujii-ikensho', insurerNumber: '271007' },
            }),
          );
        });
        const q = (clauses: Parameters<Store['search']>[0]['clauses'], scope = ALL, count = 10, offset = 0) =>
          store.search({ resourceType: 'Patient', clauses, count, offset, sort: '-lastUpdated' }, scope);
        expect(
          (await q([{ kind: 'token', param: 'identifier', values: [{ system: 'urn:test', code: 'p3' }] }])).total,
        ).to.equal(1);
        expect(
          (await q([{ kind: 'token', param: 'identifier', values: [{ code: 'p1' }, { code: 'p2' }] }])).total,
        ).to.equal(2);
        expect((await q([{ kind: 'string', param: 'name', values: ['患者'] }])).total).to.equal(5);
        expect((await q([{ kind: 'string', param: 'name', values: ['%'] }])).total).to.equal(0);
        expect(
          (
            await q([
              {
                kind: 'date',
                param: 'birthdate',
                values: [{ prefix: 'eq', low: '1940-03-01T00:00:00', high: '1940-03-01T23:59:59' }],
              },
            ])
          ).total,
        ).to.equal(5);
        expect(
          (
            await q([
              {
                kind: 'date',
                param: 'birthdate',
                values: [{ prefix: 'gt', low: '1950-01-01T00:00:00', high: '1950-01-01T23:59:59' }],
              },
            ])
          ).total,
        ).to.equal(0);
        expect((await q([{ kind: 'id', values: ['p4', 'other'] }])).total).to.equal(1);
        const page = await q([], ALL, 2, 4);
        expect(page.total).to.equal(5);
        expect(page.records.length).to.equal(1);
        // deny by default: an empty scope sees nothing; the other insurer's municipality sees only its own
        expect((await q([], NO_ROWS)).total).to.equal(0);
        expect(
          (await q([], anyOf(allOf(eq('form', 'shujii-ikensho'), eq('insurerNumber', '271007'))))).records.map(
            (r) => r.resource.id,
          ),
        ).to.deep.equal(['other']);
      });

      it('finds resources by one exact search row inside a transaction, its own writes included', async () => {
        const slot = { param: 'document-key', value: 'f|a|131011|0001234567|2024-04-01' };
        await store.transaction((tx) => tx.put(rec('k1', { index: [slot] })));
        const seen = await store.transaction(async (tx) => {
          await tx.put(rec('k2', { index: [slot, { param: 'document-key', system: 'urn:s', value: slot.value }] }));
          await tx.put(rec('k3', { index: [{ param: 'other', value: slot.value }] }));
          const before = (await tx.findByIndexRow('Patient', slot)).sort();
          // stored again without the row: out of the lookup at once
          await tx.put(rec('k1', { index: [] }));
          return { before, after: await tx.findByIndexRow('Patient', slot) };
        });
        expect(seen).to.deep.equal({ before: ['k1', 'k2'], after: ['k2'] });
        expect(
          await store.transaction((tx) => tx.findByIndexRow('Patient', { ...slot, system: 'urn:s' })),
        ).to.deep.equal(['k2']);
        expect(await store.transaction((tx) => tx.findByIndexRow('Observation', slot))).to.deep.equal([]);
      });

      it('serialises check-then-create on a locked key across concurrent transactions', async () => {
        const attempt = (n: number) =>
          store.transaction(async (tx) => {
            await tx.lock('urn:test|dup');
            const found = await tx.findByIdentifier('Patient', 'urn:test', 'dup');
            if (found.length > 0) return 'existing';
            await new Promise((r) => setTimeout(r, 30));
            await tx.put(rec(`dup-${n}`, { index: [{ param: 'identifier', system: 'urn:test', value: 'dup' }] }));
            return 'created';
          });
        const results = await Promise.all([attempt(1), attempt(2), attempt(3)]);
        expect(results.filter((r) => r === 'created')).to.have.length(1);
        expect(await store.findByIdentifier('Patient', 'urn:test', 'dup')).to.have.length(1);
      });
    });
  }
});
