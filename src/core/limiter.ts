// Bounded concurrency for background work (the outbox's effects, the core's work after an acknowledgement).

/**
 * Runs at most `concurrency` tasks at once; the others wait their turn in arrival order. Every task starts in a
 * macrotask of its own (setImmediate), after the I/O callbacks already waiting, so a queue of background work
 * never runs ahead of a request that has just arrived and is waiting for its acknowledgement.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer, not ${concurrency}`);
  }

  /** Tasks started and not yet settled. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a free slot. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.concurrency) this.active++;
    // A finishing task hands its slot over directly, so `active` stays as it is.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
