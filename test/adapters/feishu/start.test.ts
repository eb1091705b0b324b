import pino from 'pino';
import { parse, stringify } from 'yaml';
import { ADAPTERS } from '../../../adapters';
import { DEMO_CONFIG_YAML } from '../../../adapters/console/demo';
import { startJitbot, type RunningJitbot } from '../../../src/app';
import { parseConfigText } from '../../../src/config/load';
import { FAKE_APP_ID, FAKE_APP_SECRET, FakeFeishu } from '../../support/fake-feishu';
import { BOT_MENTION, cardActionEnvelope, messageEnvelope, type Person } from './feishu-requests';

// jitbot started from a jitbot.yaml that enables Feishu in its default mode, the long connection: the module
// builds the adapter, start-up opens the connection to the configured domain, and a request and its approval
// travel over the socket as frames.

const DANA: Person = { openId: 'ou_dana', unionId: 'on_dana', name: 'Dana' };
const ALICE: Person = { openId: 'ou_alice', unionId: 'on_alice', name: 'Alice' };

let fake: FakeFeishu;
let running: RunningJitbot;

beforeAll(async () => {
  fake = await FakeFeishu.start({
    chats: ['oc_requests', 'oc_ops'],
    users: [
      { openId: DANA.openId, unionId: DANA.unionId, name: 'Dana Feishu', email: 'dana@example.com' },
      { openId: ALICE.openId, unionId: ALICE.unionId, name: 'Alice Feishu', email: 'alice@example.com' },
    ],
  });
  const file = parse(DEMO_CONFIG_YAML) as Record<string, any>;
  file.adapters = { feishu: { appId: FAKE_APP_ID, domain: fake.url } };
  file.roles['ops-approvers'].members.push(`feishu:${ALICE.unionId}`);
  file.roles['ops-approvers'].channels.feishu = 'oc_ops';
  file.identities.push({
    match: { email: 'dana@example.com' },
    principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
    groups: ['developers'],
  });
  const config = parseConfigText(stringify(file), 'jitbot.yaml', {
    env: { FEISHU_APP_SECRET: FAKE_APP_SECRET },
    adapters: ADAPTERS,
  });
  config.store = { kind: 'embedded', inMemory: true };
  running = await startJitbot({
    config,
    logger: pino({ level: 'silent' }),
    port: 0,
    sweepIntervalMs: 0,
    recoveryIntervalMs: 0,
  });
});

afterAll(async () => {
  await running?.stop();
  await fake.close();
});

test('a request by @mention and its approval, over the long connection opened at start-up', async () => {
  expect(fake.openSockets).toBe(1);
  const messageId = fake.userMessage('oc_requests', '@_user_1 /jit web-1 fix nginx for 2h');
  await fake.pushEvent(
    messageEnvelope('@_user_1 /jit web-1 fix nginx for 2h', {
      sender: DANA,
      chatId: 'oc_requests',
      messageId,
      mentions: [BOT_MENTION],
    }),
  );
  const answer = await fake.waitFor(
    () => fake.messages.find((m) => m.parentId === messageId),
    'the answer to the request',
  );
  const requestId = /JIT-[0-9A-Z]{5}/.exec(answer.content.zh_cn.content[0][0].text)![0];
  const card = await fake.waitFor(
    () => fake.chatMessages('oc_ops').find((m) => m.msgType === 'interactive'),
    'the approval card',
  );
  expect(card.content.header.title.content).toContain(requestId);

  const ack = await fake.pushEvent(
    cardActionEnvelope('approve', requestId, {
      operator: ALICE,
      messageId: card.messageId,
      chatId: 'oc_ops',
      comment: 'ok',
    }),
  );
  expect(ack.data.toast).toEqual({
    type: 'success',
    content: expect.stringContaining(`Recorded your approval of ${requestId}`),
  });
  expect(ack.data.card).toMatchObject({
    type: 'raw',
    data: { schema: '2.0', header: { title: { content: expect.stringContaining(requestId) } } },
  });
  await fake.waitFor(() => fake.chatMessages('oc_dm_on_dana').length > 0, 'the DM to the requester');
});
