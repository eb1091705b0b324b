import { renderFeishuCard } from '../../../adapters/feishu/card-json';
import { feishuEventDispatcher, type CardCallbackAnswer } from '../../../adapters/feishu/dispatcher';
import { connectLongConnection, type LongConnection } from '../../../adapters/feishu/long-connection';
import {
  actionFromCallback,
  cardActionSchema,
  commandFromMessage,
  messageEventSchema,
} from '../../../adapters/feishu/payloads';
import { buildCard } from '../../../src/core/card-builder';
import { silentLogger } from '../../../src/http/middleware';
import type { InboundEvent } from '../../../src/ports/chat';
import { FAKE_APP_ID, FAKE_APP_SECRET, FAKE_BOT_OPEN_ID, FakeFeishu } from '../../support/fake-feishu';
import { makeRequest } from '../../support/fixtures';
import { BOT_MENTION, cardActionEnvelope, messageEnvelope } from './feishu-requests';

// The long connection through the SDK's own WSClient, against a local endpoint speaking its protobuf frames:
// the WS URL comes from POST /callback/ws/endpoint on the configured domain, events arrive as frames, and the
// answer to a card click (toast and redrawn card) goes back in the frame's acknowledgement.

let fake: FakeFeishu;
let connection: LongConnection | undefined;
let events: InboundEvent[];

const redrawn = renderFeishuCard(
  buildCard(makeRequest({ status: 'rejected' }), { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: [] }),
);

beforeEach(async () => {
  fake = await FakeFeishu.start();
  events = [];
});

afterEach(async () => {
  connection?.stop();
  connection = undefined;
  await fake.close();
});

function connect(appSecret = FAKE_APP_SECRET) {
  const dispatcher = feishuEventDispatcher(
    {
      message: async (data) => {
        const translated = commandFromMessage(messageEventSchema.parse(data), FAKE_BOT_OPEN_ID);
        if ('event' in translated) events.push(translated.event);
      },
      cardAction: async (data): Promise<CardCallbackAnswer> => {
        const translated = actionFromCallback(cardActionSchema.parse(data), 'x');
        if ('event' in translated) events.push(translated.event);
        return { toast: { type: 'success', content: 'Approved JIT-7K3Q2' }, card: { type: 'raw', data: redrawn } };
      },
    },
    silentLogger,
  );
  return connectLongConnection({
    appId: FAKE_APP_ID,
    appSecret,
    domain: fake.url,
    logger: silentLogger,
    dispatcher,
    connectTimeoutMs: 5000,
  });
}

test('a card click over the socket is answered with the toast and the redrawn card', async () => {
  connection = await connect();
  expect(fake.callsTo('POST', '/callback/ws/endpoint')[0]!.body).toEqual({
    AppID: FAKE_APP_ID,
    AppSecret: FAKE_APP_SECRET,
  });
  expect(fake.openSockets).toBe(1);

  const ack = await fake.pushEvent(
    cardActionEnvelope('approve', 'JIT-7K3Q2', { comment: 'ok', eventId: 'ev_ws_1' }),
    'frame-1',
  );
  expect(ack.code).toBe(200);
  expect(ack.data).toEqual({
    toast: { type: 'success', content: 'Approved JIT-7K3Q2' },
    card: { type: 'raw', data: redrawn },
  });
  expect(ack.headers).toMatchObject({ type: 'event', message_id: 'frame-1', biz_rt: expect.any(String) });
  expect(events).toEqual([
    expect.objectContaining({
      kind: 'action',
      action: 'approve',
      requestId: 'JIT-7K3Q2',
      comment: 'ok',
      deliveryId: 'ev_ws_1',
    }),
  ]);
});

test('a message event over the socket reaches the translation and is acknowledged', async () => {
  connection = await connect();
  const ack = await fake.pushEvent(messageEnvelope('@_user_1 web-1 fix nginx', { mentions: [BOT_MENTION] }));
  expect(ack.code).toBe(200);
  expect(events).toEqual([expect.objectContaining({ kind: 'command', text: 'web-1 fix nginx' })]);
});

test('a wrong app secret stops start-up with a clear message', async () => {
  await expect(connect('wrong')).rejects.toThrow(/Feishu refused the long connection/);
});

test('an App ID of the wrong shape is refused before connecting', async () => {
  const dispatcher = feishuEventDispatcher(
    { message: async () => undefined, cardAction: async () => undefined },
    silentLogger,
  );
  await expect(
    connectLongConnection({ appId: 'jitbot', appSecret: 'x', domain: fake.url, logger: silentLogger, dispatcher }),
  ).rejects.toThrow(/cli_ and 16 hex digits/);
  expect(fake.calls).toEqual([]);
});
