// A throw-away PostgreSQL cluster for the tests (the same tests run against SQLite and PostgreSQL). Uses the
// Debian postgresql package's binaries; .ci/run installs it when missing. KAIGO_TEST_PG_URL points at an
// existing server instead.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export interface TestPg {
  url: string;
  /** a fresh, empty database on the server */
  newDatabase(): Promise<string>;
  stop(): void;
}

export function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  throw new Error(
    'PostgreSQL server binaries not found under /usr/lib/postgresql: install the Debian package postgresql (.ci/run does)',
  );
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

let counter = 0;

export async function startTestPg(): Promise<TestPg> {
  const { default: pg } = await import('pg');
  const external = process.env.KAIGO_TEST_PG_URL;
  let stop = (): void => undefined;
  let url: string;
  if (external) url = external;
  else {
    const bin = pgBin();
    const dir = mkdtempSync(join(tmpdir(), 'kaigo-pg-'));
    chmodSync(dir, 0o777);
    const asPostgres = (cmd: string, args: string[]): void => {
      const isRoot = process.getuid?.() === 0;
      const r = isRoot
        ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8' })
        : spawnSync(join(bin, cmd), args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
    };
    const port = await freePort();
    asPostgres('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    asPostgres('pg_ctl', [
      '-D',
      join(dir, 'data'),
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start',
    ]);
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    stop = () => {
      try {
        asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
  }
  return {
    url,
    async newDatabase() {
      const name = `kaigo_test_${process.pid}_${Date.now()}_${counter++}`;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    stop,
  };
}
