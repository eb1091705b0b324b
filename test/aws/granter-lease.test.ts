import { PrincipalBusy, principalLeaseName, withLease } from '../../src/aws/principal-lease';
import type { OpenedStore } from '../../src/store/open-store';
import { FIXTURE_NOW } from '../support/fixtures';
import { ManualClock } from '../support/manual-clock';
import { inMemoryStore } from './simulate-env';

let opened: OpenedStore;
let clock: ManualClock;

beforeAll(async () => {
  opened = await inMemoryStore();
});
afterAll(async () => {
  await opened.close();
});
beforeEach(() => {
  clock = new ManualClock(FIXTURE_NOW);
});

const deps = (owner = 'proc-1') => ({ store: opened.store, clock, owner });
let names = 0;
const leaseName = () => principalLeaseName(`arn:aws-cn:iam::111122223333:user/lease-${++names}`);

describe('withLease', () => {
  test('calls in one process take turns (the owner id is the replica’s, so the store alone would let them overlap)', async () => {
    const name = leaseName();
    const log: string[] = [];
    const work = (tag: string) => async () => {
      log.push(`${tag}:start`);
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`${tag}:end`);
    };
    await Promise.all([
      withLease(deps(), name, work('a')),
      withLease(deps(), name, work('b')),
      withLease(deps(), name, work('c')),
    ]);
    for (let i = 0; i < log.length; i += 2) expect(log[i]!.split(':')[0]).toBe(log[i + 1]!.split(':')[0]);
  });

  test('gives up with a retryable PrincipalBusy after the wait bound, backing off with jitter', async () => {
    const name = leaseName();
    await opened.store.acquireLease(name, 'someone-else', clock.now(), 60_000);
    const sleeps: number[] = [];
    const attempt = withLease(deps(), name, async () => 'never', {
      maxWaitMs: 1_000,
      firstStepMs: 100,
      maxStepMs: 400,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(PrincipalBusy);
    await expect(attempt).rejects.toMatchObject({ retryable: true });
    expect(sleeps.slice(0, 4)).toEqual([50, 100, 200, 200]);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(1_000);
  });

  test('takes over a lease whose holder crashed once its TTL has passed', async () => {
    const name = leaseName();
    await opened.store.acquireLease(name, 'crashed', clock.now(), 60_000);
    let slept = 0;
    const result = withLease(deps(), name, async () => 'done', {
      sleep: async () => {
        slept++;
        clock.advance(30_000);
      },
    });
    await expect(result).resolves.toBe('done');
    expect(slept).toBeGreaterThanOrEqual(2);
  });

  test('renew fails when another writer took the lease over, and the lease is released afterwards', async () => {
    const name = leaseName();
    const attempt = withLease(deps(), name, async (lease) => {
      clock.advance(61_000); // our work outlived the TTL …
      await opened.store.acquireLease(name, 'other', clock.now(), 60_000); // … and someone else took it
      await lease.renew();
    });
    await expect(attempt).rejects.toBeInstanceOf(PrincipalBusy);

    const free = leaseName();
    await withLease(deps(), free, async () => undefined);
    expect(await opened.store.acquireLease(free, 'next', clock.now(), 1_000)).toBe(true);
  });

  test('a restarted replica with the same owner id takes over at once what its crashed predecessor held', async () => {
    const name = leaseName();
    await opened.store.acquireLease(name, 'proc-1', clock.now(), 15_000); // held when proc-1 was killed
    const sleeps: number[] = [];
    const result = withLease(deps('proc-1'), name, async () => 'done', { sleep: async (ms) => void sleeps.push(ms) });
    await expect(result).resolves.toBe('done');
    expect(sleeps).toEqual([]);
    // Another replica still has to wait for it (here: gives up after the bound).
    await opened.store.acquireLease(name, 'proc-1', clock.now(), 15_000);
    const other = withLease(deps('proc-2'), name, async () => 'never', { maxWaitMs: 10, sleep: async () => undefined });
    await expect(other).rejects.toBeInstanceOf(PrincipalBusy);
  });

  test('is kept alive by a heartbeat while the work runs', async () => {
    const name = leaseName();
    const ttlMs = 300;
    const store = opened.store;
    let renewals = 0;
    const counting = {
      ...deps(),
      store: Object.assign(Object.create(store) as typeof store, {
        acquireLease: (...args: Parameters<typeof store.acquireLease>) => {
          renewals++;
          return store.acquireLease(...args);
        },
      }),
    };
    await withLease(
      counting,
      name,
      async () => {
        clock.advance(ttlMs + 1); // past the TTL of the first acquisition …
        for (const deadline = Date.now() + 5_000; renewals < 2 && Date.now() < deadline; )
          await new Promise((resolve) => setTimeout(resolve, 5));
        // … but the heartbeat (every 100 ms) renewed it at the current time
        expect(await store.acquireLease(name, 'proc-2', clock.now(), ttlMs)).toBe(false);
      },
      { ttlMs },
    );
    expect(await opened.store.acquireLease(name, 'proc-2', clock.now(), ttlMs)).toBe(true);
  });
});
