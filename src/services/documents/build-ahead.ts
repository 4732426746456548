// Documents built ahead of the one being stored. A file's documents go to the context's builder (worker threads in
// the server) up to `ahead` beyond the one the store is taking, so translate + validate of the next ones runs on
// the other cores while the main thread writes this one. They are taken strictly in order, so the first failure in
// file order is the one reported, as when they were built one by one; the window keeps a large file from being
// held built all at once (a built document is ≈ 30× its CSV rows).
export interface Lookahead<T> {
  /** The i-th result; call with i = 0, 1, 2, … in turn. */
  take(i: number): Promise<T>;
  /** Resolves once every item started and not taken has settled (before a transaction they read from ends). */
  settled(): Promise<void>;
}

/** `start` runs for item 0 … ahead-1 at once, then for one more each time one is taken. ahead 0: only when taken. */
export function lookahead<T>(count: number, ahead: number, start: (i: number) => Promise<T>): Lookahead<T> {
  const started = new Map<number, Promise<T>>();
  let next = 0;
  const launch = (upTo: number): void => {
    for (; next < count && next <= upTo; next++) {
      const p = start(next);
      // Reported when taken, in order; one after a failure is dropped with the file, unheard.
      p.catch(() => undefined);
      started.set(next, p);
    }
  };
  launch(ahead - 1);
  return {
    take(i) {
      launch(i + ahead);
      const p = started.get(i);
      if (!p) return Promise.reject(new Error(`lookahead: item ${i} taken twice or out of range`));
      started.delete(i);
      return p;
    },
    settled: async () => void (await Promise.allSettled(started.values())),
  };
}
