import { holdLease, LEASE_TTL_MS, startHeartbeat } from '../../src/store/leases';
import { SqliteStore } from '../../src/store/sqlite-store';
import { FIXTURE_NOW } from '../support/fixtures';
import { ManualClock } from '../support/manual-clock';

// Leases are short and renewed while held: a crashed holder blocks other replicas for seconds, and a restarted
// replica (same owner id) takes its leases back at once.

let store: SqliteStore;
let clock: ManualClock;

beforeEach(() => {
  store = new SqliteStore({ filename: ':memory:' });
  clock = new ManualClock(FIXTURE_NOW);
});
afterEach(async () => {
  await store.close();
});

/** Resolves once `condition` holds (checked every 5 ms); fails the test after 5 s. */
async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5_000; !condition(); ) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Counts acquireLease calls (renewals included) per owner. */
function countAcquisitions(): Map<string, number> {
  const counts = new Map<string, number>();
  const acquire = store.acquireLease.bind(store);
  store.acquireLease = (name, owner, now, ttlMs) => {
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
    return acquire(name, owner, now, ttlMs);
  };
  return counts;
}

test('the default lease lasts 15 s', async () => {
  const lease = await holdLease({ store, clock }, 'sweeper', 'replica-a');
  expect(lease).toBeDefined();
  clock.advance(LEASE_TTL_MS);
  expect(await store.acquireLease('sweeper', 'replica-b', clock.now(), LEASE_TTL_MS)).toBe(false);
  clock.advance(1);
  expect(await store.acquireLease('sweeper', 'replica-b', clock.now(), LEASE_TTL_MS)).toBe(true);
  await lease!.release(); // no longer ours: releasing leaves replica-b's lease alone
  expect(await store.acquireLease('sweeper', 'replica-a', clock.now(), LEASE_TTL_MS)).toBe(false);
});

test('a held lease is renewed by its heartbeat and freed by release', async () => {
  const acquisitions = countAcquisitions();
  const lease = await holdLease({ store, clock }, 'reconciler', 'replica-a', 90);
  expect(await holdLease({ store, clock }, 'reconciler', 'replica-b', 90)).toBeUndefined();
  clock.advance(200); // far past the TTL of the first acquisition
  await until(() => (acquisitions.get('replica-a') ?? 0) >= 2); // a heartbeat renewed it at the current time
  expect(await store.acquireLease('reconciler', 'replica-b', clock.now(), 90)).toBe(false);
  expect(lease!.lost).toBe(false);

  await lease!.release();
  expect(await store.acquireLease('reconciler', 'replica-b', clock.now(), 90)).toBe(true);
});

test('a heartbeat that finds the lease taken over says so and stops', async () => {
  expect(await store.acquireLease('outbox#JIT-1', 'replica-a', clock.now(), 50)).toBe(true);
  const heartbeat = startHeartbeat({ store, clock }, 'outbox#JIT-1', 'replica-a', { ttlMs: 50, everyMs: 20 });
  clock.advance(1_000); // replica-a stalled past its TTL …
  expect(await store.acquireLease('outbox#JIT-1', 'replica-b', clock.now(), 60_000)).toBe(true); // … and b took over
  await until(() => heartbeat.lost);
  await heartbeat.stop();
  expect(await store.acquireLease('outbox#JIT-1', 'replica-a', clock.now(), 50)).toBe(false);
});

test('a restarted replica with its old owner id takes its leases back at once', async () => {
  // replica-a held the sweeper and an outbox lease when it was killed; its next incarnation starts right away.
  await store.acquireLease('sweeper', 'replica-a', clock.now(), LEASE_TTL_MS);
  await store.acquireLease('outbox#JIT-1', 'replica-a', clock.now(), LEASE_TTL_MS);
  clock.advance(1_000);
  const sweeper = await holdLease({ store, clock }, 'sweeper', 'replica-a');
  const outbox = await holdLease({ store, clock }, 'outbox#JIT-1', 'replica-a');
  expect(sweeper).toBeDefined();
  expect(outbox).toBeDefined();
  await sweeper!.release();
  await outbox!.release();
});
