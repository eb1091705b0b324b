import { ChatRefused } from '../../src/ports/chat';
import { startHarness, type Harness } from '../support/harness';

// What the service and the outbox do with an adapter's capabilities, with the port's "last seen" conversation, and
// with a platform error that retrying cannot fix.

/** No Env tag: only the one-level "default" policy covers it (ops-approvers decide in ops-approvals). */
const ONE_LEVEL_NODE = 'i-0b0b0b0b0b0b0b0b1';
const REQUESTS = { platform: 'console', channelId: 'requests' };
const HOUR = 60 * 60_000;

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

async function submit(reason = 'rotate the logs'): Promise<string> {
  const id = h.idIn(await h.command('dana', `/jit ${ONE_LEVEL_NODE} ${reason}`));
  await h.settle();
  return id;
}

describe('ChatRefused: a platform error that will not go away', () => {
  test('a DM the platform refuses is given up at once and audited, not retried for fifty minutes', async () => {
    const id = await submit();
    h.chat.failNext.notifyUser = 1;
    h.chat.failWith.notifyUser = new ChatRefused('Slack refused the call: cannot_dm_bot', 'cannot_dm_bot');
    expect((await h.click('alice', id, 'approve')).kind).toBe('info');
    await h.settle();

    const stored = (await h.store.getRequest(id))!;
    expect(stored.status).toBe('active');
    expect(stored.outbox).toEqual([]);
    const abandoned = (await h.store.listAudit()).filter((e) => e.requestId === id && e.action === 'effect.abandoned');
    expect(abandoned).toEqual([
      expect.objectContaining({
        detail: { effect: 'notifyRequester', attempts: 1, error: 'Slack refused the call: cannot_dm_bot' },
      }),
    ]);
    // The rest of the approval went out: the thread reply and the card update.
    expect(h.chat.threads.some((t) => t.text.includes('approved'))).toBe(true);
  });

  test('the same failure as a plain error is retried later', async () => {
    const id = await submit();
    h.chat.failNext.notifyUser = 1;
    await h.click('alice', id, 'approve');
    await h.settle();
    expect((await h.store.getRequest(id))!.outbox).toContainEqual(
      expect.objectContaining({ kind: 'notifyRequester', attempts: 1 }),
    );
  });

  test('a channel that refuses the card is skipped for good; the effect does not hold the outbox', async () => {
    h.chat.failNext.postCard = 1;
    h.chat.failWith.postCard = new ChatRefused('Slack refused the call: not_in_channel', 'not_in_channel');
    const id = h.idIn(await h.command('dana', `/jit ${ONE_LEVEL_NODE} rotate the logs`));
    await h.settle();
    const stored = (await h.store.getRequest(id))!;
    expect(stored.outbox).toEqual([]);
    expect(stored.cards).toEqual([]);
    expect(h.chat.posted).toEqual([]);
  });

  test('a card update the platform refuses is skipped; the other effects still run', async () => {
    const id = await submit();
    h.chat.failNext.updateCard = 1;
    h.chat.failWith.updateCard = new ChatRefused('Slack refused the call: message_not_found', 'message_not_found');
    await h.click('alice', id, 'approve');
    await h.settle();
    expect((await h.store.getRequest(id))!.outbox).toEqual([]);
    expect(h.chat.dms.some((dm) => dm.text.includes(id))).toBe(true);
  });
});

describe('the identity of each send', () => {
  test("every message the outbox sends carries its effect's identity: the same on a retry, another for every other effect", async () => {
    const id = await submit();
    h.chat.failNext.notifyUser = 1;
    await h.click('alice', id, 'approve');
    await h.settle();
    const pending = (await h.store.getRequest(id))!.outbox.find((e) => e.kind === 'notifyRequester')!;
    h.clock.advance(HOUR);
    await h.settle();
    expect((await h.store.getRequest(id))!.outbox).toEqual([]);

    const dms = h.chat.sends.filter((s) => s.method === 'notifyUser');
    // Tried twice: the failed try and its retry are one delivery.
    expect(dms.map((s) => s.idempotencyKey)).toEqual([`${id}/${pending.id}`, `${id}/${pending.id}`]);
    const keys = h.chat.sends.map((s) => s.idempotencyKey);
    expect(keys.every((key) => key?.startsWith(`${id}/`))).toBe(true);
    expect(new Set(keys).size).toBe(h.chat.sends.length - 1);
  });
});

describe('capabilities the outbox and the service read', () => {
  test('threads: false turns thread replies into channel posts that quote the request id and mention the requester', async () => {
    h.chat.capabilities.threads = false;
    const id = await submit();
    await h.click('alice', id, 'approve', { comment: 'ok' });
    await h.settle();
    expect(h.chat.threads).toEqual([]);
    expect(h.chat.channelPosts.length).toBeGreaterThan(0);
    for (const post of h.chat.channelPosts) {
      expect(post.channel).toMatchObject({ platform: 'console', channelId: 'ops-approvals' });
      expect(post.text).toContain(id);
      expect(post.mention).toMatchObject({ platform: 'console', userId: 'dana' });
    }
  });

  test('cardInClickResponse: the click reply carries the card drawn from the state after the click', async () => {
    h.chat.capabilities.cardInClickResponse = true;
    const id = await submit();
    const card = h.chat.posted[0]!.message;
    const approved = await h.click('alice', id, 'approve', { message: card });
    expect(approved.kind).toBe('info');
    // Drawn right after the decision: approved, the grant still to come, no decision buttons left.
    expect(approved.card).toMatchObject({ requestId: id, status: 'approved' });
    expect(approved.card!.actions.map((a) => a.id)).not.toContain('approve');
    await h.settle();

    const late = await h.click('carol', id, 'approve', { message: card });
    expect(late.kind).toBe('error');
    expect(late.card).toMatchObject({ requestId: id, status: 'active' });
  });

  test('without cardInClickResponse the reply carries no card (the platform redraws it by message id)', async () => {
    const id = await submit();
    const reply = await h.click('alice', id, 'approve', { message: h.chat.posted[0]!.message });
    expect(reply.card).toBeUndefined();
  });
});

describe('where the person was last seen', () => {
  test("the requester is looked up in the conversation they typed in, and DMed with the request's origin", async () => {
    const id = await submit();
    expect(h.chat.lookups.filter((l) => l.user.userId === 'dana')).toEqual([
      expect.objectContaining({ lastSeenIn: REQUESTS }),
    ]);
    await h.click('alice', id, 'approve');
    await h.settle();
    expect(h.chat.lookups.filter((l) => l.user.userId === 'alice').map((l) => l.lastSeenIn)).toContainEqual({
      platform: 'console',
      channelId: 'ops-approvals',
    });
    const dm = h.chat.dms.find((d) => d.text.includes(id));
    expect(dm).toMatchObject({ user: { userId: 'dana' }, lastSeenIn: REQUESTS });
  });
});
