// Group commit for the embedded store: transactions that arrive while one commit is running wait, then run one
// after another inside ONE database transaction, each in its own savepoint, and share a single durable COMMIT
// (one fsync). Each caller's promise settles only after that COMMIT, so an answer (a 201) still follows its own
// durable commit; a transaction that throws is rolled back to its savepoint alone and its caller gets the error,
// while the others commit. Serial semantics are kept: each sees the writes of those before it in the group.

export interface GroupCommitDb {
  begin(): void;
  savepoint(): void;
  release(): void;
  rollbackToSavepoint(): void;
  commit(): void;
  rollback(): void;
}

interface Queued<T> {
  fn: () => Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export class GroupCommitter {
  private queue: Array<Queued<unknown>> = [];
  private running = false;

  /** `maxGroup` bounds how much work one COMMIT (and so one caller's wait) can hold. */
  constructor(
    private readonly db: GroupCommitDb,
    private readonly maxGroup = 64,
  ) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject } as Queued<unknown>);
      if (!this.running) void this.drain();
    });
  }

  /** Resolves once nothing is queued or running (for close()). */
  async idle(): Promise<void> {
    while (this.running || this.queue.length) await new Promise((r) => setImmediate(r));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        // Let the event loop deliver what is ready (request bodies, finished builds) before the group closes:
        // on one thread a commit blocks, so without this pause a group would almost always hold one transaction.
        await new Promise((r) => setImmediate(r));
        await this.runGroup(this.queue.splice(0, this.maxGroup));
      }
    } finally {
      this.running = false;
    }
  }

  private async runGroup(group: Array<Queued<unknown>>): Promise<void> {
    const done: Array<{ q: Queued<unknown>; value: unknown }> = [];
    try {
      this.db.begin();
    } catch (err) {
      for (const q of group) q.reject(err);
      return;
    }
    for (const q of group) {
      this.db.savepoint();
      try {
        const value = await q.fn();
        this.db.release();
        done.push({ q, value });
      } catch (err) {
        this.db.rollbackToSavepoint();
        this.db.release();
        q.reject(err);
      }
    }
    try {
      this.db.commit();
    } catch (err) {
      this.db.rollback();
      for (const d of done) d.q.reject(err);
      return;
    }
    for (const d of done) d.q.resolve(d.value);
  }
}
