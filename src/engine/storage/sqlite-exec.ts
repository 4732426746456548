// SqlExec over one better-sqlite3 connection. Statements are prepared once per connection and kept: preparing is
// about a third of a write's cost otherwise. Only the fixed statements of the shared paths come through here
// (search SQL varies with the query and is prepared by the store), so the cache stays small.
import type Database from 'better-sqlite3';
import type { SqlExec } from './sql-exec.js';

export class SqliteExec implements SqlExec {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  async all<R>(sql: string, params: readonly unknown[]): Promise<R[]> {
    return this.stmt(sql).all(...params) as R[];
  }

  async run(sql: string, params: readonly unknown[]): Promise<void> {
    this.stmt(sql).run(...params);
  }

  async runEach(sql: string, paramLists: ReadonlyArray<readonly unknown[]>): Promise<void> {
    const st = this.stmt(sql);
    for (const params of paramLists) st.run(...params);
  }
}
