import { ChannelRoles } from '../../src/services/channel-roles';
import type { Store } from '../../src/ports/store';
import { openStore } from '../../src/store/open-store';
import { testConfig } from '../support/harness';

// Channel mappings are read once and reused: map/unmap here refresh them at once, a change made elsewhere (the
// CLI, another replica) is seen when the cache runs out.

const ops = { platform: 'console' as const, channelId: 'ops-approvals' };
const elsewhere = { platform: 'console' as const, channelId: 'war-room' };

let store: Store;
let close: () => Promise<void>;
let reads: number;
let monotonic: number;

beforeEach(async () => {
  const opened = await openStore({ embedded: { inMemory: true } });
  store = opened.store;
  close = opened.close;
  reads = 0;
  monotonic = 0;
  const list = store.listChannelMappings.bind(store);
  store.listChannelMappings = () => {
    reads++;
    return list();
  };
});

afterEach(() => close());

function roles(cacheMs = 5_000): ChannelRoles {
  return new ChannelRoles(store, testConfig(), { cacheMs, monotonicNow: () => monotonic });
}

test('many questions, one store read while the cache is fresh', async () => {
  const channelRoles = roles();
  const answers = await Promise.all(Array.from({ length: 50 }, () => channelRoles.rolesOf(ops)));
  expect(new Set(answers.map((a) => a.join()))).toEqual(new Set(['ops-approvers']));
  expect(await channelRoles.channelsFor(['security-leads'])).toEqual([
    { platform: 'console', channelId: 'security-approvals' },
  ]);
  expect(reads).toBe(1);
});

test('map and unmap through the same instance are seen at once', async () => {
  const channelRoles = roles();
  expect(await channelRoles.rolesOf(elsewhere)).toEqual([]);
  await channelRoles.map(elsewhere, 'security-leads', 'console:carol', 1);
  expect(await channelRoles.rolesOf(elsewhere)).toEqual(['security-leads']);
  await channelRoles.unmap(elsewhere, 'console:carol', 2);
  expect(await channelRoles.rolesOf(elsewhere)).toEqual([]);
});

test('a change made by another instance (CLI, replica) is seen once the cache runs out', async () => {
  const server = roles(5_000);
  expect(await server.rolesOf(elsewhere)).toEqual([]);
  await roles().map(elsewhere, 'ops-approvers', 'cli', 1);
  monotonic += 4_999;
  expect(await server.rolesOf(elsewhere)).toEqual([]);
  monotonic += 1;
  expect(await server.rolesOf(elsewhere)).toEqual(['ops-approvers']);
});

test('a failed read is not cached', async () => {
  const channelRoles = roles();
  const list = store.listChannelMappings;
  store.listChannelMappings = async () => {
    throw new Error('store unavailable');
  };
  await expect(channelRoles.rolesOf(ops)).rejects.toThrow('store unavailable');
  store.listChannelMappings = list;
  expect(await channelRoles.rolesOf(ops)).toEqual(['ops-approvers']);
});
