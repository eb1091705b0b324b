/**
 * A small time-bounded cache for inventory lookups. Concurrent loads of the same key share one in-flight
 * promise; values expire after a per-value TTL; failed loads are never cached (the next call tries again).
 */
export class TtlCache<V> {
  private readonly values = new Map<string, { value: V; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<V>>();

  constructor(
    private readonly now: () => number,
    /** How long a value stays fresh; lets misses expire sooner than hits. */
    private readonly ttlOf: (value: V) => number,
  ) {}

  /** The fresh value for `key`, or undefined. */
  peek(key: string): { value: V } | undefined {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return { value: entry.value };
    this.values.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    this.values.set(key, { value, expiresAt: this.now() + this.ttlOf(value) });
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const result = await this.getMany([key], async () => new Map([[key, await load()]]));
    return result.get(key) as V;
  }

  /**
   * Values for every key: fresh ones from the cache, keys already loading from their in-flight load, and the rest
   * from one call to `loadMissing`, which must return a value for each key it is given.
   */
  async getMany(
    keys: readonly string[],
    loadMissing: (keys: string[]) => Promise<Map<string, V>>,
  ): Promise<Map<string, V>> {
    const result = new Map<string, V>();
    const waits: Promise<unknown>[] = [];
    const missing: string[] = [];
    for (const key of new Set(keys)) {
      const fresh = this.peek(key);
      const pending = this.inflight.get(key);
      if (fresh) result.set(key, fresh.value);
      else if (pending !== undefined) waits.push(pending.then((value) => result.set(key, value)));
      else missing.push(key);
    }
    if (missing.length > 0) {
      const batch = loadMissing(missing);
      for (const key of missing) {
        this.track(
          key,
          batch.then((loaded) => {
            if (!loaded.has(key)) throw new Error(`inventory cache: loader returned nothing for ${key}`);
            return loaded.get(key) as V;
          }),
        );
      }
      waits.push(...missing.map((key) => this.inflight.get(key)!.then((value) => result.set(key, value))));
    }
    await Promise.all(waits);
    return result;
  }

  private track(key: string, load: Promise<V>): void {
    this.inflight.set(key, load);
    load.then(
      (value) => {
        this.set(key, value);
        this.inflight.delete(key);
      },
      () => this.inflight.delete(key),
    );
  }
}
