// Long loops on the one thread that also serves TLS and HTTP (a 1,000-entry batch, a care-plan file of many
// documents) give the event loop a turn every few milliseconds, so /healthz and other callers are answered while
// they run. setImmediate, not a resolved promise: only a macrotask lets the poll phase read sockets.

export type Yielder = () => Promise<void>;

/**
 * Yields to the event loop when more than `sliceMs` of work has passed since the last turn it gave. Several loops
 * may share one yielder (a batch's entries run a few at a time): their turns queue, one per pass of the event loop,
 * so loops that wake together still let the poll phase run between each one's slice of work.
 */
export function createYielder(sliceMs = 5): Yielder {
  let last = performance.now();
  let queue: Promise<void> = Promise.resolve();
  return () => {
    if (performance.now() - last < sliceMs) return Promise.resolve();
    const turn = queue.then(
      () =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            last = performance.now();
            resolve();
          }),
        ),
    );
    queue = turn;
    return turn;
  };
}

/** One turn of the event loop, unconditionally. */
export const yieldNow = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
