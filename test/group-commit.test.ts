// Group commit: concurrent transactions share one COMMIT, each in its own savepoint. A caller hears back only after
// the COMMIT holding its writes; one that fails is rolled back alone; serial semantics hold inside a group.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { GroupCommitter, type GroupCommitDb } from '../src/engine/storage/group-commit.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';

const patient = (
  id: string,
): { resource: { resourceType: 'Patient'; id: string }; access: { author: string }; index: [] } => ({
  resource: { resourceType: 'Patient', id },
  access: { author: 'test:1' },
  index: [],
});

describe('group commit', () => {
  it('runs queued transactions in one database transaction with a savepoint each, then commits once', async () => {
    const calls: string[] = [];
    const db: GroupCommitDb = {
      begin: () => calls.push('begin'),
      savepoint: () => calls.push('savepoint'),
      release: () => calls.push('release'),
      rollbackToSavepoint: () => calls.push('rollback-to'),
      commit: () => calls.push('commit'),
      rollback: () => calls.push('rollback'),
    };
    const gc = new GroupCommitter(db);
    const results = await Promise.allSettled([
      gc.run(async () => 1),
      gc.run(async () => 2),
      gc.run(async () => {
        throw new Error('no');
      }),
      gc.run(async () => 4),
    ]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    // All four were queued before the group closed: one database transaction, one COMMIT.
    expect(calls.filter((c) => c === 'commit')).to.have.length(1);
    expect(calls.filter((c) => c === 'savepoint')).to.have.length(4);
    expect(calls).to.include('rollback-to');
  });

  it('a failed COMMIT fails every transaction of its group', async () => {
    let commits = 0;
    const db: GroupCommitDb = {
      begin: () => undefined,
      savepoint: () => undefined,
      release: () => undefined,
      rollbackToSavepoint: () => undefined,
      commit: () => {
        commits++;
        throw new Error('disk full');
      },
      rollback: () => undefined,
    };
    const gc = new GroupCommitter(db);
    const r = await Promise.allSettled([gc.run(async () => 1), gc.run(async () => 2)]);
    expect(r.every((x) => x.status === 'rejected')).to.equal(true);
    expect(commits).to.be.greaterThan(0);
  });

  describe('in the SQLite store', () => {
    let dir: string;
    let store: SqliteStore;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'kaigo-gc-'));
      store = new SqliteStore(join(dir, 'db.sqlite'));
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('each caller hears back only when its writes are committed and visible to another connection', async () => {
      const other = new Database(join(dir, 'db.sqlite'), { readonly: true });
      try {
        const seen = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            store
              .transaction((tx) => tx.put(patient(`p${i}`)))
              .then(
                () => other.prepare('SELECT COUNT(*) AS n FROM resources WHERE id = ?').get(`p${i}`) as { n: number },
              ),
          ),
        );
        expect(seen.every((r) => r.n === 1)).to.equal(true);
      } finally {
        other.close();
      }
    });

    it('a failing transaction in a group leaves nothing behind; the others commit', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.put(patient(`q${i}`));
            if (i === 4) throw new Error('refused');
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).to.have.length(1);
      for (let i = 0; i < 10; i++)
        expect(await store.read('Patient', `q${i}`), `q${i}`).to.satisfy(
          (r: unknown) => (i === 4) === (r === undefined),
        );
    });

    it('later transactions of a group see the writes of earlier ones (serial semantics)', async () => {
      const [, second] = await Promise.all([
        store.transaction((tx) => tx.put(patient('s1'))),
        store.transaction(async (tx) => (await tx.read('Patient', 's1'))?.resource.id),
      ]);
      expect(second).to.equal('s1');
    });
  });
});
