// Long loops on the one thread that also serves TLS and HTTP (a 1,000-entry batch, a care-plan file of many
// documents) give the event loop a turn every few milliseconds, so /healthz and other callers are answered while
// they run. setImmediate, not a resolved promise: only a macrotask lets the poll phase read sockets.

export type Yielder = () => Promise<void>;

/** Yields to the event loop when more than `sliceMs` of work has passed since the last turn it gave. */
export function createYielder(sliceMs = 5): Yielder {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

/** One turn of the event loop, unconditionally. */
export const yieldNow = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
