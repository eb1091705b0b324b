import { SlackAdapter } from '../../../adapters/slack/slack-adapter';
import { ChatRefused } from '../../../src/ports/chat';
import { buildCard, type CardContext } from '../../../src/core/card-builder';
import type { JitRequest } from '../../../src/core/model';
import { FAKE_BOT_TOKEN, FakeSlack } from '../../support/fake-slack';
import { FIXTURE_NOW, makeRequest } from '../../support/fixtures';
import { SIGNING_SECRET } from './slack-requests';

// What the adapter sends to Slack's Web API, observed on a fake Slack over real HTTP.

const context: CardContext = { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: ['Name'] };
const card = (overrides: Partial<JitRequest> = {}) => buildCard(makeRequest(overrides), context);
const slack = (channelId: string) => ({ platform: 'slack' as const, channelId });

let fake: FakeSlack;
let adapter: SlackAdapter;
let now: number;

beforeEach(async () => {
  fake = await FakeSlack.start({
    users: [{ id: 'U_DANA', name: 'dana', realName: 'Dana Developer', displayName: 'Dana', email: 'dana@example.com' }],
    channels: [
      { id: 'C_OPS', name: 'ops-approvers', isPrivate: true, isMember: true },
      { id: 'C_SEC', name: 'security', isPrivate: true, isMember: false },
    ],
  });
  now = FIXTURE_NOW;
  adapter = new SlackAdapter({
    botToken: FAKE_BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    apiUrl: fake.apiUrl,
    now: () => now,
  });
});

afterEach(async () => {
  await adapter.stop();
  await fake.close();
});

test('postCard posts the Block Kit card with the bot token and returns channel + ts', async () => {
  const ref = await adapter.postCard(slack('C_OPS'), card());
  const [call] = fake.callsTo('chat.postMessage');
  expect(call!.token).toBe(FAKE_BOT_TOKEN);
  expect(call!.args).toMatchObject({ channel: 'C_OPS', text: expect.stringContaining('JIT-7K3Q2') });
  expect(call!.args.blocks[0]).toEqual({
    type: 'header',
    text: { type: 'plain_text', text: 'JIT-7K3Q2 · web-1', emoji: true },
  });
  expect(ref).toEqual({ platform: 'slack', channelId: 'C_OPS', messageId: fake.channelMessages('C_OPS')[0]!.ts });
});

test('updateCard redraws the message in place; older or identical redraws are skipped', async () => {
  const ref = await adapter.postCard(slack('C_OPS'), card({ version: 1 }));
  const decided = (version: number) =>
    card({
      version,
      status: 'rejected',
      decisions: [
        {
          by: { platform: 'slack', userId: 'U_BOB', displayName: 'Bob' },
          roles: [],
          level: 0,
          verdict: 'reject',
          at: FIXTURE_NOW,
        },
      ],
    });

  // Two redraws racing, the newer first: the older one must not overwrite it.
  await Promise.all([adapter.updateCard(ref, decided(3)), adapter.updateCard(ref, decided(2))]);
  await adapter.updateCard(ref, decided(3));
  const updates = fake.callsTo('chat.update');
  expect(updates).toHaveLength(1);
  expect(updates[0]!.args).toMatchObject({ channel: 'C_OPS', ts: ref.messageId });
  const shown = fake.message('C_OPS', ref.messageId)!;
  expect(shown.blocks!.some((b) => b.type === 'actions')).toBe(false);

  // The older one first, then the newer: both go out, in order.
  const ref2 = await adapter.postCard(slack('C_OPS'), card({ version: 1 }));
  await Promise.all([adapter.updateCard(ref2, decided(2)), adapter.updateCard(ref2, decided(3))]);
  expect(fake.message('C_OPS', ref2.messageId)!.history).toHaveLength(3);
});

test('a rate-limited post waits for Retry-After and is posted exactly once', async () => {
  fake.rateLimitOnce('chat.postMessage', 1);
  const ref = await adapter.postCard(slack('C_OPS'), card());
  expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
  expect(fake.channelMessages('C_OPS')).toHaveLength(1);
  expect(ref.messageId).toBe(fake.channelMessages('C_OPS')[0]!.ts);
});

test('a post that failed for any other reason is not sent again (it may have gone through)', async () => {
  fake.failOnce('chat.postMessage', 503);
  await expect(adapter.postCard(slack('C_OPS'), card())).rejects.toThrow(/503/);
  expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  await expect(adapter.postCard(slack('C_SEC'), card())).rejects.toThrow(/not_in_channel/);
  expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
});

test('a permanent Slack error is a ChatRefused carrying its code; an outage or a rate limit is not', async () => {
  const refused = await adapter.postCard(slack('C_SEC'), card()).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(ChatRefused);
  expect(refused).toMatchObject({ code: 'not_in_channel', message: 'Slack refused the call: not_in_channel' });
  await expect(
    adapter.replyInThread({ platform: 'slack', channelId: 'C_OPS', messageId: '9.000' }, 'hello'),
  ).rejects.toMatchObject({
    name: 'ChatRefused',
    code: 'thread_not_found',
  });
  await expect(
    adapter.updateCard({ platform: 'slack', channelId: 'C_OPS', messageId: '1.000' }, card()),
  ).rejects.toMatchObject({
    name: 'ChatRefused',
    code: 'message_not_found',
  });
  await expect(
    adapter.notifyUser({ platform: 'slack', userId: 'U_NOBODY', displayName: '?' }, 'hi'),
  ).rejects.toBeInstanceOf(ChatRefused);

  fake.failOnce('chat.postMessage', 503);
  const outage = await adapter.postCard(slack('C_OPS'), card()).catch((error: unknown) => error);
  expect(outage).toBeInstanceOf(Error);
  expect(outage).not.toBeInstanceOf(ChatRefused);
});

test('postMessage (for platforms without threads) posts plain text with a mention of the person first', async () => {
  const ref = await adapter.postMessage(slack('C_OPS'), 'JIT-7K3Q2: <!channel> approved', {
    mention: { platform: 'slack', userId: 'U024BE7LH', displayName: 'Dana' },
  });
  const [posted] = fake.channelMessages('C_OPS');
  expect(ref).toEqual({ platform: 'slack', channelId: 'C_OPS', messageId: posted!.ts });
  expect(posted!.blocks).toEqual([
    { type: 'section', text: { type: 'mrkdwn', text: '<@U024BE7LH>' } },
    { type: 'section', text: { type: 'plain_text', text: 'JIT-7K3Q2: <!channel> approved', emoji: true } },
  ]);
});

test('replyInThread posts plain text under the card; typed text cannot mention or link', async () => {
  const ref = await adapter.postCard(slack('C_OPS'), card());
  const text = '✅ Bob approved at Level 1 — <!channel> @here see <https://evil.example|docs> *now*';
  const reply = await adapter.replyInThread(ref, text);
  const [posted] = fake.threadReplies('C_OPS', ref.messageId);
  expect(reply).toEqual({ platform: 'slack', channelId: 'C_OPS', messageId: posted!.ts, threadId: ref.messageId });
  expect(posted!.blocks).toEqual([{ type: 'section', text: { type: 'plain_text', text, emoji: true } }]);
  expect(posted!.text).toBe(
    '✅ Bob approved at Level 1 — &lt;!channel&gt; @\u2060here see &lt;https://evil.example|docs&gt; *now*',
  );

  // Replying to a reply stays in the same thread.
  await adapter.replyInThread(reply, 'second');
  expect(fake.threadReplies('C_OPS', ref.messageId)).toHaveLength(2);
});

test('notifyUser opens the DM once and posts there', async () => {
  const dana = { platform: 'slack' as const, userId: 'U_DANA', displayName: 'Dana' };
  await adapter.notifyUser(dana, 'Your request JIT-7K3Q2 was approved.');
  await adapter.notifyUser(dana, 'Your access ends in 10m.');
  expect(fake.callsTo('conversations.open')).toHaveLength(1);
  expect(fake.callsTo('conversations.open')[0]!.args).toMatchObject({ users: 'U_DANA' });
  expect(fake.channelMessages('D_U_DANA').map((m) => m.text)).toEqual([
    'Your request JIT-7K3Q2 was approved.',
    'Your access ends in 10m.',
  ]);
});

test('resolveUser reads the email and name from users.info and caches them for ten minutes', async () => {
  const dana = { platform: 'slack' as const, userId: 'U_DANA', displayName: 'dana' };
  expect(await adapter.resolveUser(dana)).toEqual({ userId: 'U_DANA', displayName: 'Dana', email: 'dana@example.com' });
  await adapter.resolveUser(dana);
  expect(fake.callsTo('users.info')).toHaveLength(1);
  now += 11 * 60_000;
  await adapter.resolveUser(dana);
  expect(fake.callsTo('users.info')).toHaveLength(2);
  await expect(adapter.resolveUser({ ...dana, userId: 'U_NOBODY' })).rejects.toThrow(/user_not_found/);
});

test('canPostIn is true only where the bot is a member', async () => {
  expect(await adapter.canPostIn(slack('C_OPS'))).toBe(true);
  expect(await adapter.canPostIn(slack('C_SEC'))).toBe(false);
  // A private channel the bot was never invited to does not exist as far as the bot can see.
  expect(await adapter.canPostIn(slack('C_UNKNOWN'))).toBe(false);
});

test('references from another platform are refused', async () => {
  await expect(adapter.postCard({ platform: 'console', channelId: 'ops' }, card())).rejects.toThrow(/console/);
});

test('start refuses a token Slack does not accept', async () => {
  const wrong = new SlackAdapter({ botToken: 'xoxb-wrong', signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl });
  await expect(wrong.start(async () => ({ kind: 'none' }), { locale: 'en' })).rejects.toThrow(/invalid_auth/);
  await expect(adapter.start(async () => ({ kind: 'none' }), { locale: 'en' })).resolves.toBeUndefined();
});
