// Backups and restores as an operator performs them (docs/OPERATIONS.md): `kaigo-gateway backup` while the gateway
// serves, `kaigo-gateway restore` with it stopped, and the restored gateway serves every document that was in the
// backup and none written after it. PostgreSQL: pg_dump -Fc / pg_restore, then the store reads everything back.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../src/base/project.js';
import { configFromEnv } from '../src/adapters/config.js';
import { startGateway, type RunningGateway } from '../src/adapters/http/server.js';
import { createLogger } from '../src/adapters/ops/logger.js';
import { PgStore } from '../src/engine/storage/pg-store.js';
import { allOf, anyOf, eq } from '../src/engine/storage/row-filter.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { submitDocument } from '../src/services/documents/submit-document.js';
import { clientFor, sample } from './support/gateway.js';
import { pgBin, startTestPg, type TestPg } from './support/pg.js';

const BIN = join(PROJECT_ROOT, 'bin', 'kaigo-gateway.js');
const HOSPITAL = { kind: 'medical-institution', code: '1311234567', name: 'test hospital' } as const;

function cli(args: string[], dataDir: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], {
    encoding: 'utf8',
    env: { ...process.env, KAIGO_DATABASE_URL: '' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const silent = (): ReturnType<typeof createLogger> => createLogger({ level: 'silent' });

async function start(dataDir: string, pkiDir?: string): Promise<RunningGateway> {
  const cfg = configFromEnv({}, { dataDir, port: 0, host: '127.0.0.1', shutdownGraceMs: 2000 });
  return startGateway(pkiDir ? { ...cfg, pkiDir } : cfg, { logger: silent() });
}

/** A sample as the development PKI's hospital writes it (its 医療機関コード is the certificate's). */
function fromHospital(name: string, documentId?: string): any {
  const p = sample(name);
  p.header.institution.code = HOSPITAL.code;
  if (documentId !== undefined) p.header.documentId = documentId;
  return p;
}

describe('backup and restore', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'kaigo-backup-test-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('SQLite: backup while serving, restore into a stopped gateway, every backed-up document served again', async () => {
    const live = tempDir();
    const gw = await start(live);
    const pkiDir = gw.pkiDir;
    const hospital = clientFor(gw.url, pkiDir, 'hospital');
    const locations: string[] = [];
    try {
      for (const name of ['full', 'minimal']) {
        const r = await hospital.post('/forms/shujii-ikensho', fromHospital(name), {
          'content-type': 'application/json',
        });
        expect(r.status, r.text).to.equal(201);
        locations.push(r.headers.location as string);
      }
      const backupFile = join(tempDir(), 'gateway.backup.sqlite');
      const b = cli(['backup', '--out', backupFile], live);
      expect(b.status, b.out).to.equal(0);
      expect(b.out).to.match(/backup .*: \d+ resources/);
      expect(cli(['backup', '--out', backupFile], live).status, 'a backup never overwrites').to.not.equal(0);

      // Written after the backup: must not come back with the restore.
      const later = await hospital.post('/forms/shujii-ikensho', fromHospital('minimal', 'after-backup-1'), {
        'content-type': 'application/json',
      });
      expect(later.status, later.text).to.equal(201);
      const refused = cli(['restore', '--from', backupFile], live);
      expect(refused.status, 'restore refuses a database in use').to.not.equal(0);
      expect(refused.out).to.contain('stop the gateway');

      await gw.shutdown();
      await hospital.agent.close();
      const restoredDir = tempDir();
      const r = cli(['restore', '--from', backupFile], restoredDir);
      expect(r.status, r.out).to.equal(0);

      const again = await start(restoredDir, pkiDir);
      const client = clientFor(again.url, pkiDir, 'hospital');
      try {
        for (const [i, loc] of locations.entries()) {
          const got = await client.get(loc);
          expect(got.status, got.text).to.equal(200);
          expect(got.body).to.deep.equal(fromHospital(['full', 'minimal'][i]!));
        }
        const after = await client.get(later.headers.location as string);
        expect(after.status, 'the document written after the backup is not in it').to.be.within(403, 404);
      } finally {
        await again.shutdown();
        await client.agent.close();
      }
    } finally {
      await gw.shutdown();
    }
  });

  it('restore refuses a file that is not a gateway database', () => {
    const dir = tempDir();
    const bogus = join(dir, 'not-a-db.sqlite');
    spawnSync('sh', ['-c', `printf 'hello' > ${bogus}`]);
    const r = cli(['restore', '--from', bogus], join(dir, 'data'));
    expect(r.status).to.not.equal(0);
    expect(existsSync(join(dir, 'data', 'kaigo-gateway.sqlite'))).to.equal(false);
  });

  describe('PostgreSQL: pg_dump -Fc and pg_restore', () => {
    let pgServer: TestPg;
    before(async () => {
      pgServer = await startTestPg();
    });
    after(() => pgServer.stop());

    it('every resource of the dump is read back from the restored database', async () => {
      const source = await pgServer.newDatabase();
      const store = await PgStore.connect(source);
      const ctx = await createGatewayContext(store);
      const def = ctx.forms.get('shujii-ikensho')!;
      const ids: string[] = [];
      for (const name of ['full', 'minimal']) {
        const res = await store.transaction((tx) => submitDocument(ctx, tx, HOSPITAL, def, fromHospital(name)));
        ids.push(res.documentReferenceId);
      }
      await store.close();

      const dump = join(tempDir(), 'gateway.pgdump');
      const d = spawnSync(join(pgBin(), 'pg_dump'), ['-Fc', '-d', source, '-f', dump], { encoding: 'utf8' });
      expect(d.status, d.stderr).to.equal(0);
      const target = await pgServer.newDatabase();
      const r = spawnSync(join(pgBin(), 'pg_restore'), ['--no-owner', '-d', target, dump], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);

      const restored = await PgStore.connect(target);
      try {
        for (const id of ids) {
          const rec = await restored.read('DocumentReference', id);
          expect(rec?.resource.id).to.equal(id);
        }
        const { total } = await restored.search(
          { resourceType: 'DocumentReference', clauses: [], count: 10, offset: 0, sort: 'lastUpdated' },
          anyOf(allOf(eq('author', 'medical-institution:1311234567'))),
        );
        expect(total).to.equal(2);
      } finally {
        await restored.close();
      }
    });
  });

  it('the embedded store opens what a restore wrote', async () => {
    const dir = tempDir();
    const store = new SqliteStore(join(dir, 'kaigo-gateway.sqlite'));
    await store.ping();
    await store.close();
  });
});
