import { KeptMessages } from '../../../adapters/console/kept-messages';
import { BOT_AUTHOR, ConsoleWorkspace, WORKSPACE_LIMITS } from '../../../adapters/console/workspace';
import type { ConsoleCard } from '../../../adapters/console/render';
import { adapterRecords } from '../../../src/services/adapter-records';
import type { Store } from '../../../src/ports/store';
import { openStore } from '../../../src/store/open-store';

// The console's messages in the store: what changes is written as it changes, what the workspace drops is deleted,
// and a new workspace on the same store starts with the same messages (ids, order, threads, edits).

let store: Store;
let close: () => Promise<void>;
let ids: number;

beforeEach(async () => {
  ({ store, close } = await openStore({ embedded: { inMemory: true } }));
  ids = 0;
});

afterEach(() => close());

function workspace(): ConsoleWorkspace {
  return new ConsoleWorkspace(
    [{ userId: 'dana', displayName: 'Dana', description: '' }],
    [{ id: 'ops', name: 'ops', private: true }],
    () => `m${String(++ids).padStart(6, '0')}`,
    () => 1_000 + ids,
  );
}

const card = (version: number) => ({ requestId: 'JIT-7K3Q2', version, title: `v${version}` }) as unknown as ConsoleCard;

test('a new workspace on the same store has the same messages, threads and card edits', async () => {
  const first = workspace();
  const kept = new KeptMessages(first, adapterRecords(store, 'console'), { warn: () => undefined });
  kept.follow();
  const posted = first.postMessage('ops', BOT_AUTHOR, { card: card(1) });
  first.replyInThread('ops', posted.id, BOT_AUTHOR, 'approved by Alice');
  first.replaceCard('ops', posted.id, card(2));
  first.postMessage('dm:dana', BOT_AUTHOR, { text: 'Your request JIT-7K3Q2 is approved' });
  await kept.flush();

  const second = workspace();
  const restored = new KeptMessages(second, adapterRecords(store, 'console'), { warn: () => undefined });
  expect(await restored.load()).toBe(2);
  expect(second.viewFor('dana')).toEqual({ ...first.viewFor('dana'), seq: 0 });
  // New messages come after the restored ones.
  restored.follow();
  const next = second.postMessage('ops', BOT_AUTHOR, { text: 'later' });
  expect(next.order).toBeGreaterThan(second.findMessage('ops', posted.id)!.thread[0]!.order);
});

test('messages the workspace drops beyond its limit are deleted from the store', async () => {
  const ws = workspace();
  const kept = new KeptMessages(ws, adapterRecords(store, 'console'), { warn: () => undefined });
  kept.follow();
  for (let i = 0; i < WORKSPACE_LIMITS.messagesPerConversation + 3; i++)
    ws.postMessage('ops', BOT_AUTHOR, { text: `n${i}` });
  await kept.flush();
  const stored = await store.listRecords('adapter:console', { limit: 10_000 });
  expect(stored).toHaveLength(WORKSPACE_LIMITS.messagesPerConversation);
  expect(stored.map((r) => (r.value as { message: { text: string } }).message.text)).not.toContain('n0');
});
