// The two calls the shared SQL paths (sql-records.ts, sql-write.ts) need from a connection, so what is read and
// written is decided once for both stores. Statements are written with `?` placeholders; the PostgreSQL side
// numbers them ($1, $2, …).
export type SqlDialect = 'sqlite' | 'postgresql';

export interface SqlExec {
  readonly dialect: SqlDialect;
  all<R>(sql: string, params: readonly unknown[]): Promise<R[]>;
  run(sql: string, params: readonly unknown[]): Promise<void>;
  /** One statement for each parameter list, in order (a resource's search rows). */
  runEach(sql: string, paramLists: ReadonlyArray<readonly unknown[]>): Promise<void>;
}
