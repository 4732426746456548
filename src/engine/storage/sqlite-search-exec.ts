// The search statements on the SQLite reader connection. Their text depends on the query's shape (how many
// clauses, values and scope alternatives), not on its values, so a few hundred shapes cover a deployment; the
// least recently used beyond that is finalised rather than letting the cache grow with every new shape.
import type Database from 'better-sqlite3';
import type { SearchSql } from './sql-search-run.js';

export class SqliteSearchExec implements SearchSql {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly capacity = 256,
  ) {}

  async all<R>(sql: string, params: readonly unknown[]): Promise<R[]> {
    let st = this.statements.get(sql);
    if (st) this.statements.delete(sql);
    else {
      st = this.db.prepare(sql);
      if (this.statements.size >= this.capacity) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, st);
    return st.all(...params) as R[];
  }
}
