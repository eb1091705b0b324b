import { FeishuAdapter } from '../../../adapters/feishu/feishu-adapter';
import type { InboundEvent, Reply } from '../../../src/ports/chat';
import { FAKE_APP_ID, FAKE_APP_SECRET, FakeFeishu } from '../../support/fake-feishu';
import { ALICE, BOT_MENTION, cardActionEnvelope, DANA, messageEnvelope } from './feishu-requests';

// The adapter in its default mode, the long connection, with a stand-in core: what the clicker and the requester
// get back, and how start-up fails.

let fake: FakeFeishu;
let adapter: FeishuAdapter | undefined;
let events: InboundEvent[];
let logged: string[];
let loggedFields: object[];

beforeEach(async () => {
  fake = await FakeFeishu.start({
    chats: ['oc_approvers'],
    users: [
      { openId: ALICE.openId, unionId: ALICE.unionId, name: 'Alice Ops', email: 'alice@example.com' },
      { openId: DANA.openId, unionId: DANA.unionId, name: 'Dana Dev', email: 'dana@example.com' },
    ],
  });
  events = [];
  logged = [];
  loggedFields = [];
});

afterEach(async () => {
  await adapter?.stop();
  adapter = undefined;
  await fake.close();
});

async function start(
  handler: (event: InboundEvent) => Promise<Reply>,
  options: { clickDeadlineMs?: number; botOpenIdWaitMs?: number } = {},
): Promise<FeishuAdapter> {
  adapter = new FeishuAdapter({
    mode: 'websocket',
    appId: FAKE_APP_ID,
    appSecret: FAKE_APP_SECRET,
    domain: fake.url,
    logger: {
      debug: () => undefined,
      info: (obj: object, message: string) => {
        logged.push(message);
        loggedFields.push(obj);
      },
      warn: (_obj: object, message: string) => void logged.push(message),
      error: (_obj: object, message: string) => void logged.push(message),
    },
    ...options,
  });
  await adapter.start(
    async (event) => {
      events.push(event);
      return handler(event);
    },
    { locale: 'en' },
  );
  return adapter;
}

test('a click over the long connection is answered with a toast, as the person it names (by name from the contact API)', async () => {
  await start(async () => ({ kind: 'info', text: 'Recorded your approval of JIT-7K3Q2.' }));
  const ack = await fake.pushEvent(cardActionEnvelope('approve', 'JIT-7K3Q2', { operator: ALICE, comment: 'fine' }));
  expect(ack).toMatchObject({
    code: 200,
    data: { toast: { type: 'success', content: 'Recorded your approval of JIT-7K3Q2.' } },
  });
  expect(events).toEqual([
    expect.objectContaining({
      kind: 'action',
      actor: { platform: 'feishu', userId: ALICE.unionId, displayName: 'Alice Ops' },
      comment: 'fine',
    }),
  ]);
});

/** A stand-in core that claims delivery ids as the real one does: a duplicate gets nothing, a failure releases. */
function claiming(handle: (event: InboundEvent) => Promise<Reply>): (event: InboundEvent) => Promise<Reply> {
  const claimed = new Set<string>();
  return async (event) => {
    if (claimed.has(event.deliveryId)) return { kind: 'none' };
    claimed.add(event.deliveryId);
    try {
      return await handle(event);
    } catch (error) {
      claimed.delete(event.deliveryId);
      throw error;
    }
  };
}

const APPROVED: Reply = { kind: 'info', text: 'Recorded your approval of JIT-7K3Q2.' };
const click = (eventId: string, callbackToken: string) =>
  fake.pushEvent(cardActionEnvelope('approve', 'JIT-7K3Q2', { operator: ALICE, eventId, callbackToken }));

test('a card callback pushed again with the same callback token, under another event id, is the same delivery', async () => {
  await start(claiming(async () => APPROVED));
  const first = await click('ev_1', 'c-same');
  const again = await click('ev_2', 'c-same');
  expect(first.data.toast.type).toBe('success');
  expect(again).toMatchObject({ code: 200, data: {} });
  expect(events.map((event) => event.deliveryId)).toEqual(['ev_1', 'ev_1']);
});

test('a click pushed again while the first is still being handled joins it and gets the same answer', async () => {
  let release!: () => void;
  const slow = new Promise<void>((resolve) => (release = resolve));
  let handled = 0;
  await start(
    claiming(async () => {
      handled += 1;
      await slow;
      return APPROVED;
    }),
  );
  const first = click('ev_1', 'c-same');
  let again: ReturnType<typeof click> | undefined;
  try {
    await fake.waitFor(() => events.length === 1, 'the first click to reach the core');
    again = click('ev_2', 'c-same');
    const joined = 'card callback redelivered under another event id; handled as the first';
    await fake.waitFor(() => logged.includes(joined), 'the redelivery to arrive', 2000);
  } finally {
    release();
  }
  const answers = await Promise.all([first, again]);
  expect(answers.map((answer) => answer.data.toast?.content)).toEqual([APPROVED.text, APPROVED.text]);
  expect(handled).toBe(1);
});

test('a click pushed again after the core failed on it is handled again', async () => {
  let calls = 0;
  await start(
    claiming(async () => {
      calls += 1;
      if (calls === 1) throw new Error('store unavailable');
      return APPROVED;
    }),
  );
  const first = await click('ev_1', 'c-same');
  expect(first.data.toast.type).toBe('error');
  const again = await click('ev_2', 'c-same');
  expect(again.data.toast).toEqual({ type: 'success', content: APPROVED.text });
});

test("clicks whose events carry no token of their own are told apart: the header's Verification Token is not one", async () => {
  await start(claiming(async () => APPROVED));
  const clickWithoutToken = (eventId: string) =>
    fake.pushEvent(cardActionEnvelope('approve', 'JIT-7K3Q2', { operator: ALICE, eventId, callbackToken: null }));
  const first = await clickWithoutToken('ev_a');
  const second = await clickWithoutToken('ev_b');
  expect([first.data.toast?.type, second.data.toast?.type]).toEqual(['success', 'success']);
  expect(events.map((event) => event.deliveryId)).toEqual(['ev_a', 'ev_b']);
});

test('a refusal is an error toast', async () => {
  await start(async () => ({ kind: 'error', text: 'JIT-7K3Q2 was already approved by Bob at 14:02.' }));
  const ack = await fake.pushEvent(cardActionEnvelope('approve', 'JIT-7K3Q2'));
  expect(ack.data).toEqual({ toast: { type: 'error', content: 'JIT-7K3Q2 was already approved by Bob at 14:02.' } });
});

test('a command is acknowledged at once and answered with a reply to the message', async () => {
  await start(async () => ({ kind: 'info', text: 'Submitted JIT-7K3Q2.' }));
  const messageId = fake.userMessage('oc_approvers', '@_user_1 web-1 fix nginx');
  const ack = await fake.pushEvent(
    messageEnvelope('@_user_1 web-1 fix nginx', { chatId: 'oc_approvers', messageId, mentions: [BOT_MENTION] }),
  );
  expect(ack.code).toBe(200);
  const reply = await fake.waitFor(() => fake.messages.find((m) => m.parentId === messageId), 'the answer');
  expect(reply.content.zh_cn.content[0][0].text).toBe('Submitted JIT-7K3Q2.');
});

test("a command in a group logs the group's chat id, for mapping it to a role, and not the text", async () => {
  await start(async () => ({ kind: 'info', text: 'Submitted JIT-7K3Q2.' }));
  const messageId = fake.userMessage('oc_approvers', '@_user_1 web-1 secret-ish reason');
  await fake.pushEvent(
    messageEnvelope('@_user_1 web-1 secret-ish reason', { chatId: 'oc_approvers', messageId, mentions: [BOT_MENTION] }),
  );
  await adapter!.idle();
  expect(loggedFields).toContainEqual(expect.objectContaining({ chatId: 'oc_approvers' }));
  expect(JSON.stringify(loggedFields)).not.toContain('secret-ish');
});

test('a click the core answers too late gets a "working" toast in time, and the reply goes to the clicker by DM', async () => {
  let release!: () => void;
  const slow = new Promise<void>((resolve) => (release = resolve));
  await start(
    async () => {
      await slow;
      return { kind: 'info', text: 'Recorded your approval of JIT-7K3Q2.' };
    },
    { clickDeadlineMs: 20 },
  );
  const ack = await fake.pushEvent(cardActionEnvelope('approve', 'JIT-7K3Q2', { operator: ALICE }));
  expect(ack.code).toBe(200);
  release();
  expect(ack.data).toEqual({ toast: { type: 'info', content: expect.stringMatching(/working/i) } });
  const dm = await fake.waitFor(() => fake.chatMessages(`oc_dm_${ALICE.unionId}`)[0], 'the late answer by DM');
  expect(dm.content.zh_cn.content[0][0].text).toBe('Recorded your approval of JIT-7K3Q2.');
});

const BOT_INFO = 'GET /open-apis/bot/v3/info';

/** `@jitbot <text>` in the approvers' group; resolves with the frame's ack. */
function groupCommand(text: string) {
  const messageId = fake.userMessage('oc_approvers', `@_user_1 ${text}`);
  return fake.pushEvent(
    messageEnvelope(`@_user_1 ${text}`, { chatId: 'oc_approvers', messageId, mentions: [BOT_MENTION] }),
  );
}

test('a burst of group messages while Feishu is slow to say who the bot is: one shared look-up, and the acks do not wait for it', async () => {
  // Feishu cannot say at start-up: the bot's open_id is not known yet.
  fake.failOnce(BOT_INFO, 500, 1, 'internal error');
  await start(async () => ({ kind: 'info', text: 'Submitted JIT-7K3Q2.' }), { botOpenIdWaitMs: 50 });
  expect(fake.received('GET', '/open-apis/bot/v3/info')).toBe(1);

  const release = fake.hold(BOT_INFO);
  let acks: Awaited<ReturnType<typeof groupCommand>>[];
  try {
    acks = await Promise.all(['web-1 a', 'web-1 b', 'web-1 c', 'web-1 d', 'web-1 e'].map(groupCommand));
  } finally {
    release();
  }
  expect(acks.map((ack) => ack.code)).toEqual([200, 200, 200, 200, 200]);
  // One look-up for the whole burst (the start-up's failed one before it); nothing was taken for a command.
  expect(fake.received('GET', '/open-apis/bot/v3/info')).toBe(2);
  expect(events).toEqual([]);
  expect(logged).toContain(
    "the feishu bot's open_id is not known yet: a group message is taken as not mentioning it, and ignored",
  );

  // The shared look-up's answer is kept: the next message is a command, with no look-up of its own.
  await fake.waitFor(() => fake.callsTo('GET', '/open-apis/bot/v3/info').some((c) => c.status === 200), 'the look-up');
  await groupCommand('web-1 fix nginx');
  await adapter!.idle();
  expect(events).toEqual([expect.objectContaining({ kind: 'command', text: 'web-1 fix nginx' })]);
  expect(fake.received('GET', '/open-apis/bot/v3/info')).toBe(2);
});

test('a failed look-up of the bot is not kept: the next message looks it up again', async () => {
  fake.failOnce(BOT_INFO, 500, 1, 'internal error');
  fake.failOnce(BOT_INFO, 500, 1, 'internal error');
  await start(async () => ({ kind: 'info', text: 'Submitted JIT-7K3Q2.' }));
  await groupCommand('web-1 first');
  await adapter!.idle();
  expect(events).toEqual([]);
  expect(logged).toContain('could not look up the feishu bot; trying again with the next message');

  await groupCommand('web-1 second');
  await adapter!.idle();
  expect(events).toEqual([expect.objectContaining({ kind: 'command', text: 'web-1 second' })]);
  expect(fake.received('GET', '/open-apis/bot/v3/info')).toBe(3);
});

test('two sends that say the same thing are two messages; a retry of one delivery (same idempotency key) is shown once', async () => {
  await start(async () => ({ kind: 'none' }));
  const chat = { platform: 'feishu', channelId: 'oc_approvers' } as const;
  const dana = { platform: 'feishu', userId: DANA.unionId, displayName: 'Dana' } as const;

  // No durable identity: every call is a message of its own.
  await adapter!.postMessage(chat, 'Reminder: JIT-7K3Q2 is waiting.');
  await adapter!.postMessage(chat, 'Reminder: JIT-7K3Q2 is waiting.');
  expect(fake.chatMessages('oc_approvers')).toHaveLength(2);

  // The outbox's effects: two effects with the same text are two DMs; the second try of the first is not shown again.
  await adapter!.notifyUser(dana, 'Access ends in 10 minutes.', chat, { idempotencyKey: 'JIT-7K3Q2/3.1' });
  await adapter!.notifyUser(dana, 'Access ends in 10 minutes.', chat, { idempotencyKey: 'JIT-8M4R3/3.1' });
  await adapter!.notifyUser(dana, 'Access ends in 10 minutes.', chat, { idempotencyKey: 'JIT-7K3Q2/3.1' });
  expect(fake.chatMessages(`oc_dm_${DANA.unionId}`)).toHaveLength(2);

  const card = fake.chatMessages('oc_approvers')[0]!;
  const root = { ...chat, messageId: card.messageId };
  await adapter!.replyInThread(root, 'Granting access is delayed.', { idempotencyKey: 'JIT-7K3Q2/4.2' });
  await adapter!.replyInThread(root, 'Granting access is delayed.', { idempotencyKey: 'JIT-7K3Q2/6.2' });
  await adapter!.replyInThread(root, 'Granting access is delayed.', { idempotencyKey: 'JIT-7K3Q2/4.2' });
  expect(fake.replies(card.messageId)).toHaveLength(2);

  // Every uuid is within Feishu's 50 characters, and no post was refused.
  const posts = [...fake.callsTo('POST', '/open-apis/im/v1/messages'), ...fake.callsTo('POST', /\/reply$/)];
  expect(posts.map((call) => call.status)).toEqual(posts.map(() => 200));
  expect(posts.every((call) => /^[0-9a-f]{32}$/.test(call.body.uuid))).toBe(true);
});

test('http mode needs the Encrypt Key and the Verification Token', () => {
  expect(
    () =>
      new FeishuAdapter({
        mode: 'http',
        appId: FAKE_APP_ID,
        appSecret: FAKE_APP_SECRET,
        domain: fake.url,
        verificationToken: 'x',
      }),
  ).toThrow(/http mode needs the Encrypt Key and the Verification Token/);
});

test('a wrong App Secret stops start-up with a clear message', async () => {
  adapter = new FeishuAdapter({ mode: 'websocket', appId: FAKE_APP_ID, appSecret: 'wrong', domain: fake.url });
  await expect(adapter.start(async () => ({ kind: 'none' }), { locale: 'en' })).rejects.toThrow(
    /Feishu refused the app .*check adapters\.feishu\.appId and FEISHU_APP_SECRET/,
  );
});
