import type { JitRequest } from '../../src/core/model';
import type { Store } from '../../src/ports/store';
import { openStore, type OpenedStore } from '../../src/store/open-store';
import { backoffDelay, updateRequest } from '../../src/services/update-request';
import { makeRequest } from '../support/fixtures';

// The one compare-and-set loop, against the real store (in-memory dynalite): lost races are re-decided on what the
// winner wrote, with a jittered wait in between.

let opened: OpenedStore;
let ids = 0;

beforeAll(async () => {
  opened = await openStore({ embedded: { inMemory: true } });
});
afterAll(async () => {
  await opened.close();
});

async function stored(reason = 'start'): Promise<JitRequest> {
  const request = makeRequest({ id: `JIT-UPD${String(++ids).padStart(2, '0')}`, reason });
  expect(await opened.store.createRequest(request)).toBe(true);
  return request;
}

/** Another writer changes the request (bumps its version) behind the caller's back. */
async function writeBehind(id: string, reason: string): Promise<void> {
  const fresh = (await opened.store.getRequest(id))!;
  expect(await opened.store.saveRequest({ ...fresh, reason, version: fresh.version + 1 }, fresh.version)).toBe(true);
}

const noWait = { sleep: async () => undefined };

/** The real store, except that another writer gets in just before each of the first `races` saves. */
function racingStore(races: number): Store {
  const store = opened.store;
  let left = races;
  return Object.assign(Object.create(store) as Store, {
    saveRequest: async (request: JitRequest, expectedVersion: number) => {
      if (left-- > 0) await writeBehind(request.id, `other${races - left}`);
      return store.saveRequest(request, expectedVersion);
    },
  });
}

test("a write that loses its race is decided again on the winner's version, after a jittered wait", async () => {
  const request = await stored();
  const seen: string[] = [];
  const waits: number[] = [];
  const outcome = await updateRequest(
    racingStore(2),
    request.id,
    (fresh) => {
      seen.push(fresh.reason);
      return { next: { ...fresh, reason: `${fresh.reason}+mine` } };
    },
    { baseDelayMs: 10, random: () => 0.5, sleep: async (ms) => void waits.push(ms) },
  );
  if (outcome.kind !== 'saved') throw new Error(`expected saved, got ${outcome.kind}`);
  expect(seen).toEqual(['start', 'other1', 'other2']);
  expect(waits).toEqual([5, 10]);
  expect(outcome.request).toMatchObject({ reason: 'other2+mine', version: request.version + 3 });
  expect(outcome.previous.reason).toBe('other2');
  expect((await opened.store.getRequest(request.id))!.reason).toBe('other2+mine');
});

test('when every attempt loses, it gives up and says so', async () => {
  const request = await stored();
  let decisions = 0;
  const outcome = await updateRequest(
    racingStore(3),
    request.id,
    (fresh) => {
      decisions++;
      return { next: { ...fresh, reason: 'mine' } };
    },
    { attempts: 3, ...noWait },
  );
  expect(outcome).toEqual({ kind: 'contended', attempts: 3 });
  expect(decisions).toBe(3);
  expect((await opened.store.getRequest(request.id))!.reason).toBe('other3');
});

test('refusals, no-ops and missing requests write nothing', async () => {
  const request = await stored();
  expect(await updateRequest(opened.store, request.id, () => ({ refuse: 'nope' as const }), noWait)).toEqual({
    kind: 'refused',
    refusal: 'nope',
    request,
  });
  expect(await updateRequest(opened.store, request.id, () => ({ skip: true }), noWait)).toEqual({
    kind: 'skipped',
    request,
  });
  expect((await opened.store.getRequest(request.id))!.version).toBe(request.version);
  expect(await updateRequest(opened.store, 'JIT-NONE0', () => ({ skip: true }), noWait)).toEqual({ kind: 'missing' });
});

test('the next version is always one after the version read, whatever fn returned', async () => {
  const request = await stored();
  const outcome = await updateRequest(
    opened.store,
    request.id,
    (fresh) => ({ next: { ...fresh, version: fresh.version + 7 } }),
    noWait,
  );
  expect(outcome).toMatchObject({ kind: 'saved', request: { version: request.version + 1 } });
});

test('back-off is a random wait below an exponentially growing cap', () => {
  const options = { baseDelayMs: 10, maxDelayMs: 100 };
  expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, { ...options, random: () => 0.999 }))).toEqual([
    9, 19, 39, 79, 99, 99,
  ]);
  expect(backoffDelay(3, { ...options, random: () => 0 })).toBe(0);
  expect(backoffDelay(3, { ...options, random: () => 0.5 })).toBe(20);
});
