import { DingTalkApiError, DingTalkOpenApi, type OpenApiOptions } from '../../../adapters/dingtalk/open-api';
import { silentLogger } from '../../../src/http/middleware';
import { ChatRefused } from '../../../src/ports/chat';
import { FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FAKE_ROBOT_CODE, FakeDingTalk } from '../../support/fake-dingtalk';

// The outbound client against the local fake open API: token, cards, robot messages, user look-up, rate limits.

let fake: FakeDingTalk;
let waits: number[];

beforeEach(async () => {
  fake = await FakeDingTalk.start({
    users: [
      { userid: 'manager4521', name: '张三', email: 'zhang@example.cn' },
      { userid: 'ops7', name: 'Li Si', orgEmail: 'lisi@corp.example.cn' },
      { userid: 'noemail', name: 'Wang' },
    ],
  });
  waits = [];
});

afterEach(async () => {
  await fake.close();
});

function api(overrides: Partial<OpenApiOptions> = {}): DingTalkOpenApi {
  return new DingTalkOpenApi({
    clientId: FAKE_CLIENT_ID,
    clientSecret: FAKE_CLIENT_SECRET,
    apiUrl: fake.url,
    oapiUrl: fake.url,
    logger: silentLogger,
    random: () => 1,
    sleep: async (ms) => {
      waits.push(ms);
    },
    rateLimit: { retries: 3, initialDelayMs: 100, maxDelayMs: 1000 },
    ...overrides,
  });
}

test('one access token serves many calls, in the header for api and the query for oapi', async () => {
  const client = api();
  await client.sendGroupMessage('cidGroup1', 'sampleText', { content: 'hello' });
  await client.getUser('manager4521');
  expect(fake.callsTo('/v1.0/oauth2/accessToken')).toHaveLength(1);
  expect(fake.callsTo('/v1.0/oauth2/accessToken')[0]!.body).toEqual({
    appKey: FAKE_CLIENT_ID,
    appSecret: FAKE_CLIENT_SECRET,
  });
  const token = fake.callsTo('/v1.0/robot/groupMessages/send')[0]!.token;
  expect(token).toMatch(/^fake-access-token-/);
  expect(fake.callsTo('/topapi/v2/user/get')[0]!.token).toBe(token);
});

test('a card is created and delivered to a group by the robot, with string values, and updated by outTrackId', async () => {
  const client = api();
  await client.createAndDeliverCard({
    cardTemplateId: 'tpl.schema',
    outTrackId: 'JIT-7K3Q2-abc',
    space: { kind: 'group', openConversationId: 'cidOps==' },
    cardParamMap: { markdown: '**x**', status: 'pending' },
    atUserIds: { manager4521: '张三' },
  });
  const card = fake.cards.get('JIT-7K3Q2-abc')!;
  expect(card).toMatchObject({
    cardTemplateId: 'tpl.schema',
    openSpaceId: 'dtv1.card//IM_GROUP.cidOps==',
    callbackType: 'STREAM',
    cardParamMap: { markdown: '**x**', status: 'pending' },
    deliver: { robotCode: FAKE_ROBOT_CODE, atUserIds: { manager4521: '张三' } },
  });

  await client.updateCard('JIT-7K3Q2-abc', { status: 'approved' });
  expect(card.cardParamMap).toEqual({ markdown: '**x**', status: 'approved' });
});

test('a card for one person goes to their chat with the robot', async () => {
  await api().createAndDeliverCard({
    cardTemplateId: 't',
    outTrackId: 'o1',
    space: { kind: 'direct', userId: 'ops7' },
    cardParamMap: {},
  });
  expect(fake.cards.get('o1')!.openSpaceId).toBe('dtv1.card//IM_ROBOT.ops7');
});

test('group and one-to-one robot messages carry the robot code and the message as a JSON string', async () => {
  const client = api();
  await client.sendGroupMessage('cidOps==', 'sampleMarkdown', { title: 'JIT-7K3Q2', text: '**approved**' });
  await client.sendDirectMessage(['ops7'], 'sampleText', { content: 'your access ends soon' });
  expect(fake.messages).toEqual([
    { kind: 'group', to: 'cidOps==', msgKey: 'sampleMarkdown', msgParam: { title: 'JIT-7K3Q2', text: '**approved**' } },
    { kind: 'direct', to: ['ops7'], msgKey: 'sampleText', msgParam: { content: 'your access ends soon' } },
  ]);
  expect(typeof fake.callsTo('/v1.0/robot/groupMessages/send')[0]!.body.msgParam).toBe('string');
});

test('a one-to-one message to someone DingTalk does not know is refused for good (ChatRefused)', async () => {
  const error = await api()
    .sendDirectMessage(['ghost'], 'sampleText', { content: 'x' })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ChatRefused);
  expect(error).toMatchObject({ code: 'invalidStaffId' });
});

test('a one-to-one message held back by flow control is sent again to those held back, after a backoff, once', async () => {
  fake.flowControl('ops7', 2);
  await api().sendDirectMessage(['manager4521', 'ops7'], 'sampleText', { content: 'hello' });
  expect(fake.callsTo('/v1.0/robot/oToMessages/batchSend').map((c) => c.body.userIds)).toEqual([
    ['manager4521', 'ops7'],
    ['ops7'],
    ['ops7'],
  ]);
  expect(fake.messages.map((m) => m.to)).toEqual([['manager4521'], ['ops7']]);
  expect(waits).toEqual([100, 200]);
});

test('flow control that does not lift is a retryable RateLimited error (the outbox backs off), not a success', async () => {
  fake.flowControl('ops7', 10);
  const error = await api()
    .sendDirectMessage(['ops7'], 'sampleText', { content: 'x' })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DingTalkApiError);
  expect(error).not.toBeInstanceOf(ChatRefused);
  expect(error).toMatchObject({ code: 'RateLimited', status: 429, permanent: false });
  expect(fake.callsTo('/v1.0/robot/oToMessages/batchSend')).toHaveLength(4);
  expect(fake.messages).toEqual([]);
});

test('user look-up: the personal email, else the enterprise one, else none', async () => {
  const client = api();
  expect(await client.getUser('manager4521')).toEqual({
    userId: 'manager4521',
    name: '张三',
    email: 'zhang@example.cn',
    unionId: 'union-manager4521',
  });
  expect(await client.getUser('ops7')).toMatchObject({ email: 'lisi@corp.example.cn' });
  expect(await client.getUser('noemail')).not.toHaveProperty('email');
  const unknown = await client.getUser('ghost').catch((e: unknown) => e);
  expect(unknown).toBeInstanceOf(ChatRefused);
  expect(unknown).toMatchObject({ code: '60121' });
});

test.each(['http429', 'qps403', 'oapi'] as const)(
  'a call refused over the rate limit (%s) waits and is sent again, and happens once',
  async (style) => {
    const client = api();
    const path = style === 'oapi' ? '/topapi/v2/user/get' : '/v1.0/robot/groupMessages/send';
    fake.rateLimit(path, 2, style);
    if (style === 'oapi') await client.getUser('ops7');
    else await client.sendGroupMessage('cidOps==', 'sampleText', { content: 'once' });
    expect(fake.callsTo(path)).toHaveLength(3);
    if (style !== 'oapi') expect(fake.messages).toHaveLength(1);
    // 429 answers say Retry-After: 0; the others wait with doubling jittered backoff.
    expect(waits).toEqual(style === 'http429' ? [0, 0] : [100, 200]);
  },
);

test('a rate limit that does not lift fails as a transient error after the last retry', async () => {
  fake.rateLimit('/v1.0/robot/groupMessages/send', 10, 'qps403');
  const error = await api()
    .sendGroupMessage('cidOps==', 'sampleText', { content: 'x' })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DingTalkApiError);
  expect(error).not.toBeInstanceOf(ChatRefused);
  expect(error).toMatchObject({ code: 'RateLimited' });
  expect(fake.callsTo('/v1.0/robot/groupMessages/send')).toHaveLength(4);
  expect(fake.messages).toEqual([]);
});

test('an expired token is refreshed and the call sent once more', async () => {
  const client = api();
  await client.sendGroupMessage('cidOps==', 'sampleText', { content: 'one' });
  fake.expireTokens();
  await client.sendGroupMessage('cidOps==', 'sampleText', { content: 'two' });
  await client.getUser('ops7');
  expect(fake.callsTo('/v1.0/oauth2/accessToken')).toHaveLength(2);
  expect(fake.messages).toHaveLength(2);
});

test('a server error is not retried (DingTalk may have carried it out) and is not permanent', async () => {
  fake.failOnce('/v1.0/card/instances', 503);
  const error = await api()
    .updateCard('nope', {})
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DingTalkApiError);
  expect(error).not.toBeInstanceOf(ChatRefused);
  expect(error).toMatchObject({ status: 503 });
  expect(fake.callsTo('/v1.0/card/instances')).toHaveLength(1);
});

test("a refusal (4xx) is a ChatRefused with DingTalk's code, and says what DingTalk said", async () => {
  const error = await api()
    .updateCard('no-such-card', { a: 'b' })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ChatRefused);
  expect(error).toMatchObject({ code: 'param.cardNotExist' });
  expect((error as Error).message).toMatch(/card instance not found/);
});

test('a permission the app lacks (403 AccessTokenPermissionDenied) is refused for good, naming it; the token is kept', async () => {
  const client = api();
  await client.sendGroupMessage('cidOps==', 'sampleText', { content: 'one' });
  fake.failOnce('/v1.0/robot/oToMessages/batchSend', 403, {
    code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
    requestid: 'req-1',
    message:
      '没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp-server/add-api-permission',
    accessdenieddetail: { requiredScopes: ['qyapi_robot_sendmsg'] },
  });
  const error = await client.sendDirectMessage(['ops7'], 'sampleText', { content: 'x' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ChatRefused);
  expect(error).toMatchObject({ code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' });
  expect((error as Error).message).toMatch(/HTTP 403 Forbidden\.AccessDenied\.AccessTokenPermissionDenied/);
  expect((error as Error).message).toMatch(/needs the permission qyapi_robot_sendmsg/);
  // Not mistaken for a bad token: no refresh, no second attempt.
  expect(fake.callsTo('/v1.0/robot/oToMessages/batchSend')).toHaveLength(1);
  expect(fake.callsTo('/v1.0/oauth2/accessToken')).toHaveLength(1);
  expect(fake.messages).toHaveLength(1);
});

test('wrong app credentials are reported without the secret', async () => {
  const client = api({ clientSecret: 'not-the-secret' });
  const error = await client.checkCredentials().catch((e: unknown) => e);
  expect((error as Error).message).toMatch(/client id and client secret/);
  expect((error as Error).message).not.toMatch(/not-the-secret/);
});
