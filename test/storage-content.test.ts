// What a read returns is what was written, on both stores, for every sample of every form: each resource of the
// document (DocumentReference, Bundle, QuestionnaireResponse, Patient, …), read by id and found by search, equals
// the record the put returned. On SQLite it is the very JSON text (compressed storage gives back the bytes
// JSON.stringify produced at write time); PostgreSQL's JSONB orders object keys its own way, as it always has.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Party } from '../src/base/party.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { readKeys } from '../src/engine/forms/assemble-document.js';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { allOf, anyOf, eq } from '../src/engine/storage/row-filter.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { Store, StoredRecord } from '../src/engine/storage/store.js';
import { submitDocument } from '../src/services/documents/submit-document.js';
import { readSample, type SampleName } from './support/document-fill.js';
import { startTestPg, type TestPg } from './support/pg.js';

const SAMPLES_DIR = join(PROJECT_ROOT, 'test', 'samples');
const SAMPLES: SampleName[] = readdirSync(SAMPLES_DIR)
  .sort()
  .flatMap((form) =>
    readdirSync(join(SAMPLES_DIR, form))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f): SampleName => `${form}/${f.replace(/\.json$/, '')}`),
  );

/** The store, with every record its puts returned kept in `written`. */
function recordingPuts(store: Store, written: StoredRecord[]): Store {
  return {
    kind: store.kind,
    read: (type, id) => store.read(type, id),
    findByIdentifier: (type, system, value) => store.findByIdentifier(type, system, value),
    search: (q, scope) => store.search(q, scope),
    ping: () => store.ping(),
    close: () => store.close(),
    transaction: (fn) =>
      store.transaction((tx) =>
        fn({ ...tx, put: async (rec) => (written.push(await tx.put(rec)), written[written.length - 1]!) }),
      ),
  };
}

describe('stored content reads back as written, every sample of every form', function () {
  this.timeout(120_000);
  let dir: string;
  let pgServer: TestPg;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaigo-content-'));
    pgServer = await startTestPg();
  });
  after(() => {
    pgServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('covers every form', () => {
    expect(new Set(SAMPLES.map((s) => s.split('/')[0])).size).to.be.at.least(20);
  });

  for (const kind of ['sqlite', 'postgresql'] as const) {
    it(`${kind}: by id and by search`, async () => {
      const store =
        kind === 'sqlite'
          ? new SqliteStore(join(dir, 'kaigo-gateway.sqlite'))
          : await PgStore.connect(await pgServer.newDatabase());
      const written: StoredRecord[] = [];
      try {
        const ctx = await createGatewayContext(recordingPuts(store, written));
        for (const sample of SAMPLES) {
          const def = ctx.forms.get(sample.split('/')[0]!)!;
          const payload = readSample(sample);
          const party: Party = {
            kind: def.mapping.sharing.author,
            code: readKeys(def, payload).issuerCode ?? 'content-test',
            name: 'test',
          };
          const result = await ctx.store.transaction((tx) => submitDocument(ctx, tx, party, def, payload));
          expect(result.created, sample).to.equal(true);
        }
        expect(written.length).to.be.at.least(SAMPLES.length * 4);

        const same = (got: StoredRecord | undefined, want: StoredRecord, label: string): void => {
          expect(got, label).to.deep.equal(want);
          if (kind === 'sqlite') expect(JSON.stringify(got), label).to.equal(JSON.stringify(want));
        };
        for (const want of written) {
          const { resourceType, id } = want.resource;
          same(await store.read(resourceType, id), want, `${resourceType}/${id}`);
        }
        const authors = [...new Set(written.map((w) => w.access.author))];
        const everyone = anyOf(...authors.map((a) => allOf(eq('author', a))));
        for (const resourceType of new Set(written.map((w) => w.resource.resourceType))) {
          const wanted = written.filter((w) => w.resource.resourceType === resourceType);
          const page = await store.search(
            { resourceType, clauses: [], count: wanted.length + 1, offset: 0, sort: 'lastUpdated' },
            everyone,
          );
          expect(page.records.length, resourceType).to.equal(wanted.length);
          const byId = new Map(page.records.map((r) => [r.resource.id, r]));
          for (const want of wanted)
            same(byId.get(want.resource.id), want, `search ${resourceType}/${want.resource.id}`);
        }
      } finally {
        await store.close();
      }
    });
  }
});
