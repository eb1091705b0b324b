import { FeishuApiError, FeishuOpenApi, feishuBaseUrl } from '../../../adapters/feishu/open-api';
import { ChatRefused } from '../../../src/ports/chat';
import { buildCard, type CardContext } from '../../../src/core/card-builder';
import { silentLogger } from '../../../src/http/middleware';
import {
  FAKE_APP_ID,
  FAKE_APP_SECRET,
  FAKE_BOT_OPEN_ID,
  FAKE_TENANT_TOKEN,
  FakeFeishu,
} from '../../support/fake-feishu';
import { makeRequest } from '../../support/fixtures';

// The outbound side through the official SDK Client, pointed at the fake Feishu: what actually goes over the wire.

const context: CardContext = { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: ['Name'] };
const card = (overrides: Parameters<typeof makeRequest>[0] = {}) =>
  buildCard(
    makeRequest({
      requester: { platform: 'feishu', userId: 'on_dana', displayName: 'Dana', groups: [] },
      ...overrides,
    }),
    context,
  );

let fake: FakeFeishu;
let api: FeishuOpenApi;
let waits: number[];

beforeEach(async () => {
  fake = await FakeFeishu.start({
    chats: ['oc_approvers'],
    users: [
      { openId: 'ou_dana', unionId: 'on_dana', name: 'Dana Developer', email: 'dana@example.com' },
      { openId: 'ou_bob', unionId: 'on_bob', name: 'Bob', enterpriseEmail: 'bob@corp.example' },
    ],
  });
  waits = [];
  api = new FeishuOpenApi({
    appId: FAKE_APP_ID,
    appSecret: FAKE_APP_SECRET,
    domain: fake.url,
    logger: silentLogger,
    now: Date.now,
    sleep: async (ms) => void waits.push(ms),
  });
});

afterEach(() => fake.close());

test('every call, the tenant token included, goes to the configured base; the token is fetched once and sent as a bearer', async () => {
  expect(await api.botOpenId()).toBe(FAKE_BOT_OPEN_ID);
  await api.postCard('oc_approvers', card());
  const tokenCalls = fake.callsTo('POST', '/open-apis/auth/v3/tenant_access_token/internal');
  expect(tokenCalls).toHaveLength(1);
  expect(tokenCalls[0]!.body).toEqual({ app_id: FAKE_APP_ID, app_secret: FAKE_APP_SECRET });
  expect(fake.calls.filter((c) => !c.path.includes('tenant_access_token')).map((c) => c.token)).toEqual([
    FAKE_TENANT_TOKEN,
    FAKE_TENANT_TOKEN,
  ]);
});

test('a card is posted as an interactive JSON 2.0 card (content a JSON string) with a uuid', async () => {
  const posted = await api.postCard('oc_approvers', card());
  const [create] = fake.callsTo('POST', '/open-apis/im/v1/messages');
  expect(create!.query).toEqual({ receive_id_type: 'chat_id' });
  expect(create!.body).toMatchObject({
    receive_id: 'oc_approvers',
    msg_type: 'interactive',
    uuid: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
  expect(typeof create!.body.content).toBe('string');
  const message = fake.message(posted.messageId)!;
  expect(posted.chatId).toBe('oc_approvers');
  expect(message.content).toMatchObject({
    schema: '2.0',
    config: { update_multi: true },
    header: { template: 'orange' },
  });
});

test('posting the same card twice (a retry) shows it once: the uuid is the same', async () => {
  const first = await api.postCard('oc_approvers', card());
  const second = await api.postCard('oc_approvers', card({ version: 2 }));
  expect(second.messageId).toBe(first.messageId);
  expect(fake.chatMessages('oc_approvers')).toHaveLength(1);
});

test('a card is redrawn in place with PATCH', async () => {
  const posted = await api.postCard('oc_approvers', card());
  await api.updateCard(
    posted.messageId,
    card({
      status: 'rejected',
      decisions: [
        {
          by: { platform: 'feishu', userId: 'on_bob', displayName: 'Bob' },
          roles: [],
          level: 0,
          verdict: 'reject',
          at: 1,
        },
      ],
    }),
  );
  const message = fake.message(posted.messageId)!;
  expect(message.history).toHaveLength(2);
  expect(message.content.header.template).toBe('red');
  expect(fake.callsTo('PATCH', `/open-apis/im/v1/messages/${posted.messageId}`)).toHaveLength(1);
});

test('thread replies go to the card thread (reply_in_thread) as literal text; the answer to a command does not open a thread', async () => {
  const posted = await api.postCard('oc_approvers', card());
  const reply = await api.replyInThread(posted.messageId, 'Bob approved <at user_id="all"></at> @all');
  expect(reply.threadId).toMatch(/^omt_/);
  const [stored] = fake.replies(posted.messageId);
  expect(stored).toMatchObject({ msgType: 'post', threadId: reply.threadId, parentId: posted.messageId });
  const element = stored!.content.zh_cn.content[0][0];
  expect(element.tag).toBe('text');
  expect(element.text.replace(/\u2060/g, '')).toBe('Bob approved <at user_id="all"></at> @all');
  expect(element.text).not.toMatch(/<at|@all/);
  expect(fake.callsTo('POST', /\/reply$/)[0]!.body).toMatchObject({ reply_in_thread: true, uuid: expect.any(String) });

  const answer = await api.replyTo(posted.messageId, 'Request JIT-7K3Q2 created');
  expect(fake.message(answer.messageId)!.parentId).toBe(posted.messageId);
  expect(fake.callsTo('POST', /\/reply$/)[1]!.body.reply_in_thread).toBeUndefined();
});

test('a DM goes to the person by union_id', async () => {
  const dm = await api.sendToUser('on_dana', 'Your request JIT-7K3Q2 was approved');
  expect(fake.callsTo('POST', '/open-apis/im/v1/messages')[0]!.query).toEqual({ receive_id_type: 'union_id' });
  expect(fake.message(dm.messageId)!.chatId).toBe('oc_dm_on_dana');
});

test('the contact API gives the name and email (falling back to the enterprise email), cached', async () => {
  expect(await api.user('on_dana')).toEqual({
    userId: 'on_dana',
    displayName: 'Dana Developer',
    email: 'dana@example.com',
  });
  expect(await api.user('on_bob')).toEqual({ userId: 'on_bob', displayName: 'Bob', email: 'bob@corp.example' });
  await api.user('on_dana');
  expect(fake.callsTo('GET', /^\/open-apis\/contact\/v3\/users\//).map((c) => [c.path, c.query.user_id_type])).toEqual([
    ['/open-apis/contact/v3/users/on_dana', 'union_id'],
    ['/open-apis/contact/v3/users/on_bob', 'union_id'],
  ]);
});

test('a 429 (99991400) is waited out for the reset the header names, then sent again with the same uuid: one message', async () => {
  fake.rateLimitOnce('POST /open-apis/im/v1/messages', 2);
  const posted = await api.postCard('oc_approvers', card());
  const creates = fake.callsTo('POST', '/open-apis/im/v1/messages');
  expect(creates.map((c) => c.status)).toEqual([429, 200]);
  expect(creates[0]!.body.uuid).toBe(creates[1]!.body.uuid);
  expect(waits).toEqual([2000]);
  expect(fake.chatMessages('oc_approvers').map((m) => m.messageId)).toEqual([posted.messageId]);
});

test('a 200 whose body says rate limited (99991400) is waited out as a 429 is, then sent again', async () => {
  fake.rateLimitOnce('PATCH /open-apis/im/v1/messages/:id', 3, 200);
  const posted = await api.postCard('oc_approvers', card());
  await api.updateCard(posted.messageId, card());
  const patches = fake.callsTo('PATCH', `/open-apis/im/v1/messages/${posted.messageId}`);
  expect(patches.map((c) => c.status)).toEqual([200, 200]);
  expect(waits).toEqual([3000]);
});

test('a 200 rate-limit body that does not clear is a retryable failure, not a refusal', async () => {
  for (let i = 0; i < 4; i += 1) fake.rateLimitOnce('POST /open-apis/im/v1/messages', 1, 200);
  const error = await api.postCard('oc_approvers', card()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FeishuApiError);
  expect(error).not.toBeInstanceOf(ChatRefused);
  expect(error).toMatchObject({ code: 99991400 });
  expect(waits).toEqual([1000, 1000, 1000]);
});

test('rate limits that do not clear give up after three waits', async () => {
  for (let i = 0; i < 4; i += 1) fake.rateLimitOnce('PATCH /open-apis/im/v1/messages/:id', 1);
  const posted = await api.postCard('oc_approvers', card());
  await expect(api.updateCard(posted.messageId, card())).rejects.toMatchObject({ name: 'FeishuApiError', status: 429 });
  expect(waits).toEqual([1000, 1000, 1000]);
});

test('permanent errors are ChatRefused (bot not in the chat); server errors are not; no secret is in the message', async () => {
  const refused = await api.postCard('oc_elsewhere', card()).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ChatRefused);
  expect(refused).toMatchObject({ code: '230002' });
  expect((refused as Error).message).toBe(
    'Feishu message create failed: code 230002: Bot/User can NOT be out of the chat.',
  );

  fake.failOnce('POST /open-apis/im/v1/messages', 503, 1000, 'internal error');
  const outage = await api.postCard('oc_approvers', card()).catch((e: unknown) => e);
  expect(outage).toBeInstanceOf(FeishuApiError);
  expect(outage).toMatchObject({ status: 503, code: 1000 });

  const wrongSecret = new FeishuOpenApi({
    appId: FAKE_APP_ID,
    appSecret: 'not-the-secret',
    domain: fake.url,
    logger: silentLogger,
    now: Date.now,
  });
  const error = (await wrongSecret.postCard('oc_approvers', card()).catch((e: unknown) => e)) as Error;
  expect(error).toBeInstanceOf(ChatRefused);
  expect(error).toMatchObject({ code: '10014' });
  expect(error.message).not.toContain('not-the-secret');
  // Without a token nothing was sent.
  expect(fake.callsTo('POST', '/open-apis/im/v1/messages')).toHaveLength(2);
});

test('domain: feishu, lark or a base URL', () => {
  expect(feishuBaseUrl('feishu')).toBe('https://open.feishu.cn');
  expect(feishuBaseUrl('lark')).toBe('https://open.larksuite.com');
  expect(feishuBaseUrl('http://127.0.0.1:9/')).toBe('http://127.0.0.1:9');
});

test('a plain channel message can @mention a person: their open_id in this app comes from the contact API', async () => {
  const posted = await api.postText('oc_approvers', 'JIT-7K3Q2 was approved', 'on_dana');
  const [paragraph] = fake.message(posted.messageId)!.content.zh_cn.content;
  expect(paragraph).toEqual([
    { tag: 'at', user_id: 'ou_dana' },
    { tag: 'text', text: ' ' },
    { tag: 'text', text: 'JIT-7K3Q2 was approved' },
  ]);
  const plain = await api.postText('oc_approvers', 'no mention');
  expect(fake.message(plain.messageId)!.content.zh_cn.content).toEqual([[{ tag: 'text', text: 'no mention' }]]);
});
