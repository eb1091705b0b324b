import pino from 'pino';
import { stringify } from 'yaml';
import { ADAPTERS } from '../../adapters';
import { TOPIC_CARD_CALLBACK, TOPIC_ROBOT_MESSAGE } from '../../adapters/dingtalk/stream-client';
import { startJitbot, type RunningJitbot } from '../../src/app';
import { parseConfigText } from '../../src/config/load';
import { cardCallback, robotMessage, visibleText } from '../adapters/dingtalk/dingtalk-payloads';
import { FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FAKE_CORP_ID, FakeDingTalk } from '../support/fake-dingtalk';

// `jitbot start` with DingTalk enabled in jitbot.yaml: the adapter module builds the adapter from its section,
// it connects over Stream to the (fake) gateway, and a request goes from an @jitbot message to a granted card.

let fake: FakeDingTalk;
let running: RunningJitbot;

beforeAll(async () => {
  fake = await FakeDingTalk.start({
    users: [
      { userid: 'manager4521', name: '张三' },
      { userid: 'ops7', name: 'Li Si' },
    ],
  });
  const yaml = stringify({
    identities: [
      {
        match: { platform: 'dingtalk', userId: 'manager4521' },
        principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/zhang' },
      },
    ],
    roles: { ops: { members: ['dingtalk:ops7'], channels: { dingtalk: 'cidOps==' } } },
    policies: [{ kind: 'manual', name: 'default', targets: { all: true }, levels: [{ roles: ['ops'], required: 1 }] }],
    inventory: { demo: true },
    adapters: {
      dingtalk: {
        enabled: true,
        clientId: FAKE_CLIENT_ID,
        corpId: FAKE_CORP_ID,
        cardTemplateId: 'jitbot.schema',
        gatewayUrl: fake.url,
        apiUrl: fake.url,
        oapiUrl: fake.url,
      },
    },
  });
  const config = parseConfigText(yaml, 'jitbot.yaml', {
    env: { DINGTALK_CLIENT_SECRET: FAKE_CLIENT_SECRET },
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
  await running.stop();
  await fake.close();
});

test('configured in jitbot.yaml, DingTalk connects over Stream and carries a request to a granted card', async () => {
  expect(fake.openSockets).toBe(1);
  await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: 'web-1 fix nginx', userId: 'manager4521', group: 'cidRequests==' }),
  );
  await fake.waitFor(() => fake.cards.size === 1, 'the card');
  const [card] = [...fake.cards.values()];
  const requestId = card!.cardParamMap.requestId!;
  expect(requestId).toMatch(/^JIT-/);

  const ack = await fake.sendCallback(
    TOPIC_CARD_CALLBACK,
    cardCallback({ requestId, channelId: 'cidOps==', action: 'approve', userId: 'ops7' }),
  );
  expect(visibleText(ack.data.response.userPrivateData.cardParamMap.note)).toContain(
    `Recorded your approval of ${requestId}`,
  );
  await running.outbox.idle();
  await fake.waitFor(() => fake.cards.get(card!.outTrackId)!.cardParamMap.canRevoke === 'true', 'the active card');
});
