// A database written by the code before versioned migrations (test/fixtures/storage-v1, made by that code) opens
// with today's stores, SQLite and PostgreSQL: it is recorded as schema version 1 and migrated from there, every
// stored resource reads back as that code read it, every document comes back as the same form payload through
// the API, and the upgraded database takes new writes.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DocumentReference } from 'fhir/r4.js';
import { handle } from '../src/api/router.js';
import type { Party } from '../src/base/party.js';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { MIGRATIONS } from '../src/engine/storage/migrations/index.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import { allOf, anyOf, eq } from '../src/engine/storage/row-filter.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { Store, StoredRecord } from '../src/engine/storage/store.js';
import { startTestPg, type TestPg } from './support/pg.js';

const FIXTURE = new URL('./fixtures/storage-v1/', import.meta.url);

interface Expected {
  documents: Array<{ sample: string; form: string; party: Party; documentReferenceId: string; payload: unknown }>;
  resources: StoredRecord[];
}
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURE), 'utf8')) as Expected;

const countByType = (types: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const t of types) out[t] = (out[t] ?? 0) + 1;
  return out;
};

/**
 * Everything the fixture holds, read back through the store and through the API. `exactJson`: each record's JSON
 * text is the very one the previous code's read gave (SQLite keeps the text as written; PostgreSQL's JSONB orders
 * an object's keys its own way, as it always has).
 */
function readsBackEverything(open: () => Promise<Store>, exactJson: boolean): void {
  let store: Store;
  let ctx: Awaited<ReturnType<typeof createGatewayContext>>;
  before(async () => {
    store = await open();
    ctx = await createGatewayContext(store);
  });
  after(async () => store?.close());

  const get = (party: Party, path: string) =>
    handle(ctx, { method: 'GET', path, query: {}, headers: {}, party, fhirBase: 'https://gateway.example/fhir' });

  it('every stored resource reads back exactly as the previous code read it (content, meta, access tag)', async () => {
    for (const want of expected.resources) {
      const got = await store.read(want.resource.resourceType, want.resource.id);
      expect(got, `${want.resource.resourceType}/${want.resource.id}`).to.deep.equal(want);
      if (exactJson) expect(JSON.stringify(got)).to.equal(JSON.stringify(want));
    }
  });

  it('the same resources per type, no more, when searched with every author in scope', async () => {
    const authors = [...new Set(expected.resources.map((r) => r.access.author))];
    const types = Object.keys(countByType(expected.resources.map((r) => r.resource.resourceType)));
    expect(types).to.include.members(['DocumentReference', 'Bundle', 'QuestionnaireResponse', 'Patient']);
    const found: string[] = [];
    for (const resourceType of types) {
      const page = await store.search(
        { resourceType, clauses: [], count: 1000, offset: 0, sort: 'lastUpdated' },
        anyOf(...authors.map((a) => allOf(eq('author', a)))),
      );
      expect(page.total).to.equal(page.records.length);
      found.push(...page.records.map((r) => `${r.resource.resourceType}/${r.resource.id}`));
    }
    const want = expected.resources.map((r) => `${r.resource.resourceType}/${r.resource.id}`);
    expect(countByType(found.map((k) => k.split('/')[0]!))).to.deep.equal(
      countByType(want.map((k) => k.split('/')[0]!)),
    );
    expect(found.sort()).to.deep.equal(want.sort());
  });

  it('every document: its DocumentReference readable, found by its identifier, its form payload the same', async () => {
    for (const doc of expected.documents) {
      const ref = await get(doc.party, `/fhir/DocumentReference/${doc.documentReferenceId}`);
      expect(ref.status, doc.sample).to.equal(200);
      const identifier = (ref.body as DocumentReference).identifier![0]!;
      expect(await store.findByIdentifier('DocumentReference', identifier.system!, identifier.value!)).to.deep.equal([
        doc.documentReferenceId,
      ]);
      const form = await get(doc.party, `/forms/${doc.form}/${doc.documentReferenceId}`);
      expect(form.status, doc.sample).to.equal(200);
      expect(form.body, doc.sample).to.deep.equal(doc.payload);
    }
  });

  it('takes new versions and new documents after the upgrade', async () => {
    const old = expected.resources.find((r) => r.access.form === undefined)!;
    const v2 = await store.transaction((tx) =>
      tx.put({ resource: old.resource, access: old.access, index: [{ param: 'gender', value: 'female' }] }),
    );
    expect(v2.resource.meta.versionId).to.equal('2');
    expect((await store.read(old.resource.resourceType, old.resource.id))?.resource.meta.versionId).to.equal('2');

    const party: Party = { kind: 'medical-institution', code: '1311234567', name: 'test' };
    const payload = JSON.parse(readFileSync(new URL('./samples/shujii-ikensho/minimal.json', import.meta.url), 'utf8'));
    const posted = await handle(ctx, {
      method: 'POST',
      path: '/forms/shujii-ikensho',
      query: {},
      headers: {},
      body: payload,
      party,
      fhirBase: 'https://gateway.example/fhir',
    });
    expect(posted.status, JSON.stringify(posted.body)).to.equal(201);
    const back = await get(party, posted.headers!.Location!);
    expect(back.status).to.equal(200);
    expect(back.body).to.deep.equal(payload);
  });
}

const ledgerVersions = (rows: Array<{ version: number; name: string }>) =>
  rows.map(({ version, name }) => ({ version, name }));
const LATEST = MIGRATIONS.map((m) => ({ version: m.version, name: m.name }));

describe('upgrading a database written before versioned migrations', function () {
  this.timeout(120_000);
  let dir: string;
  // Each store opens a private copy: opening writes beside the file (WAL) and migrating changes it.
  before(() => (dir = mkdtempSync(join(tmpdir(), 'kaigo-upgrade-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the fixture is worth testing: several forms and authors, and a resource outside any form', () => {
    expect(new Set(expected.documents.map((d) => d.form)).size).to.be.at.least(5);
    expect(new Set(expected.documents.map((d) => d.party.kind)).size).to.be.at.least(3);
    expect(expected.resources.some((r) => r.access.form === undefined)).to.equal(true);
  });

  describe('sqlite (the data directory opened by SqliteStore)', () => {
    let file: string;
    let upgraded: { bytes: number; history: unknown; contentTypes: unknown };
    readsBackEverything(async () => {
      // a data directory as the previous gateway left it
      file = join(mkdtempSync(join(dir, 'data-')), 'kaigo-gateway.sqlite');
      copyFileSync(new URL('kaigo-gateway.sqlite', FIXTURE), file);
      const store = new SqliteStore(file);
      // as the upgrade left it, before the tests write to it; migration 3 vacuums and checkpoints, so the file
      // alone holds the database
      const db = new Database(file, { readonly: true });
      try {
        upgraded = {
          bytes: statSync(file).size,
          history: db.prepare('SELECT COUNT(*) AS n FROM resource_history').get(),
          contentTypes: db.prepare(`SELECT typeof(content) AS t, COUNT(*) AS n FROM resources GROUP BY 1`).all(),
        };
      } finally {
        db.close();
      }
      return store;
    }, true);

    it('keeps each version once, compressed, in a file less than half the size (migration 3)', () => {
      expect(upgraded.bytes).to.be.below(statSync(new URL('kaigo-gateway.sqlite', FIXTURE)).size / 2);
      // every fixture resource is at version 1: its history row was a second copy of the current version
      expect(upgraded.history).to.deep.equal({ n: 0 });
      expect(upgraded.contentTypes).to.deep.equal([{ t: 'blob', n: expected.resources.length }]);
    });

    it('is recorded as version 1 (not re-run) and migrated to the latest', () => {
      const db = new Database(file, { readonly: true });
      try {
        const rows = db.prepare('SELECT * FROM schema_migrations ORDER BY version').all() as Array<{
          version: number;
          name: string;
        }>;
        expect(ledgerVersions(rows)).to.deep.equal(LATEST);
      } finally {
        db.close();
      }
    });
  });

  describe('postgresql (the version-1 schema, the fixture rows copied in, then PgStore)', () => {
    let server: TestPg;
    let url: string;
    let historyRows: { before: number; after: number };
    after(() => server?.stop());
    readsBackEverything(async () => {
      server = await startTestPg();
      url = await server.newDatabase();
      const copy = join(mkdtempSync(join(dir, 'pg-source-')), 'kaigo-gateway.sqlite');
      copyFileSync(new URL('kaigo-gateway.sqlite', FIXTURE), copy);
      const source = new Database(copy, { readonly: true });
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        // as the previous code created it: its schema text, saved by the fixture script
        await c.query(readFileSync(new URL('schema-v1-postgresql.sql', FIXTURE), 'utf8'));
        for (const table of ['resources', 'resource_history', 'search_index']) {
          const rows = source.prepare(`SELECT * FROM ${table}`).all() as Array<Record<string, unknown>>;
          expect(rows.length, table).to.be.greaterThan(0);
          for (const row of rows) {
            const cols = Object.keys(row);
            await c.query(
              `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
              Object.values(row),
            );
          }
        }
      } finally {
        source.close();
        await c.end();
      }
      const history = async (): Promise<number> => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          return (await c.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM resource_history')).rows[0]!.n;
        } finally {
          await c.end();
        }
      };
      const before = await history();
      const store = await PgStore.connect(url);
      historyRows = { before, after: await history() };
      return store;
    }, false);

    it('keeps each version once (migration 3): the history rows of current versions are gone', () => {
      expect(historyRows).to.deep.equal({ before: expected.resources.length, after: 0 });
    });

    it('is recorded as version 1 (not re-run) and migrated to the latest', async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const rows = (await c.query('SELECT * FROM schema_migrations ORDER BY version')).rows;
        expect(ledgerVersions(rows)).to.deep.equal(LATEST);
      } finally {
        await c.end();
      }
    });
  });
});
