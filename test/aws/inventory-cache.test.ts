import { TtlCache } from '../../src/aws/inventory-cache';

describe('TtlCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('keeps a value for its TTL only', async () => {
    const cache = new TtlCache<string>(clock, () => 100);
    const load = jest.fn(async () => 'v');

    await cache.get('k', load);
    now += 99;
    await cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(1);

    now += 1;
    await cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('lets each value choose its TTL', () => {
    const cache = new TtlCache<string | null>(clock, (value) => (value === null ? 10 : 100));
    cache.set('miss', null);
    cache.set('hit', 'node');
    now += 10;
    expect(cache.peek('miss')).toBeUndefined();
    expect(cache.peek('hit')).toEqual({ value: 'node' });
  });

  it('shares one in-flight load between concurrent callers, also across batches', async () => {
    const cache = new TtlCache<string>(clock, () => 100);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batches: string[][] = [];
    const loadMany = async (keys: string[]) => {
      batches.push(keys);
      await gate;
      return new Map(keys.map((k) => [k, k.toUpperCase()]));
    };

    const first = cache.getMany(['a', 'b'], loadMany);
    const second = cache.getMany(['b', 'c'], loadMany);
    release();

    expect(await first).toEqual(
      new Map([
        ['a', 'A'],
        ['b', 'B'],
      ]),
    );
    expect(await second).toEqual(
      new Map([
        ['b', 'B'],
        ['c', 'C'],
      ]),
    );
    expect(batches).toEqual([['a', 'b'], ['c']]);
  });

  it('never caches a failure: every waiting caller sees it, the next call loads again', async () => {
    const cache = new TtlCache<string>(clock, () => 100);
    const failing = jest.fn(async () => {
      throw new Error('throttled');
    });

    const both = [cache.get('k', failing), cache.get('k', failing)];
    await expect(both[0]).rejects.toThrow('throttled');
    await expect(both[1]).rejects.toThrow('throttled');
    expect(failing).toHaveBeenCalledTimes(1);

    await expect(cache.get('k', async () => 'ok')).resolves.toBe('ok');
  });

  it('fails loudly when a batch loader leaves a key out', async () => {
    const cache = new TtlCache<string>(clock, () => 100);
    await expect(cache.getMany(['a', 'b'], async () => new Map([['a', 'A']]))).rejects.toThrow(
      'loader returned nothing for b',
    );
  });
});
