import { SlackAdapter } from '../../../adapters/slack/slack-adapter';
import { startHttpServer } from '../../../src/http/server';
import type { ActionEvent, CommandEvent, InboundEvent, Reply } from '../../../src/ports/chat';
import { FAKE_APP_TOKEN, FAKE_BOT_TOKEN, FakeSlack } from '../../support/fake-slack';
import { blockActionsPayload, SIGNING_SECRET, slashCommandBody, slashCommandFields } from './slack-requests';

// Socket Mode against a local WebSocket fake: apps.connections.open with the app token, hello, envelopes, acks.

let fake: FakeSlack;
let adapter: SlackAdapter;
let events: InboundEvent[];
let nextReply: () => Promise<Reply>;

beforeEach(async () => {
  fake = await FakeSlack.start({
    users: [
      { id: 'U_DANA', name: 'dana', displayName: 'Dana' },
      { id: 'U_ALICE', name: 'alice', realName: 'Alice' },
    ],
  });
  adapter = new SlackAdapter({
    botToken: FAKE_BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    appToken: FAKE_APP_TOKEN,
    apiUrl: fake.apiUrl,
  });
  events = [];
  nextReply = async () => ({ kind: 'info', text: 'done' });
  await adapter.start(
    async (event) => {
      events.push(event);
      return nextReply();
    },
    { locale: 'en' },
  );
});

afterEach(async () => {
  await adapter.stop();
  await fake.close();
});

test('start connects with the app token and nothing else', async () => {
  expect(adapter.socketMode).toBe(true);
  expect(fake.callsTo('apps.connections.open').map((c) => c.token)).toEqual([FAKE_APP_TOKEN]);
  expect(fake.openSockets).toBe(1);
});

test('a slash command envelope is acknowledged at once; the reply goes to its response_url', async () => {
  let release!: () => void;
  nextReply = () =>
    new Promise<Reply>((resolve) => (release = () => resolve({ kind: 'info', text: 'Submitted JIT-7K3Q2' })));
  const fields = slashCommandFields({
    text: 'web-1 fix nginx',
    userId: 'U_DANA',
    channelId: 'C_REQUESTS',
    responseUrl: fake.responseUrl('sock-1'),
  });

  const ack = await fake.sendEnvelope('slash_commands', fields);
  expect(ack.payload ?? {}).toEqual({});
  await fake.waitFor(() => events.length === 1, 'the handler');
  expect(fake.responsesTo('sock-1')).toEqual([]);

  release();
  const [answer] = await fake.waitFor(
    () => fake.responsesTo('sock-1').length > 0 && fake.responsesTo('sock-1'),
    'the reply',
  );
  expect(answer!.body).toMatchObject({
    response_type: 'ephemeral',
    replace_original: false,
    text: 'Submitted JIT-7K3Q2',
  });
  expect(events[0] as CommandEvent).toMatchObject({
    kind: 'command',
    text: 'web-1 fix nginx',
    actor: { userId: 'U_DANA', displayName: 'Dana' },
  });
});

test('a button click envelope becomes an ActionEvent with the typed comment; a redelivery keeps its id', async () => {
  const payload = blockActionsPayload({
    userId: 'U_ALICE',
    channelId: 'C_OPS',
    messageTs: '1736931600.000101',
    action: 'reject',
    requestId: 'JIT-7K3Q2',
    comment: 'not now',
    responseUrl: fake.responseUrl('sock-2'),
  });
  await fake.sendEnvelope('interactive', payload);
  await adapter.idle();
  // A redelivery after the first was handled reaches the core, which de-duplicates it by the same id.
  await fake.sendEnvelope('interactive', payload, { retryAttempt: 1 });
  await adapter.idle();
  expect(events).toHaveLength(2);
  expect(events[0] as ActionEvent).toMatchObject({
    kind: 'action',
    action: 'reject',
    requestId: 'JIT-7K3Q2',
    comment: 'not now',
    actor: { userId: 'U_ALICE' },
  });
  expect(events[1]!.deliveryId).toBe(events[0]!.deliveryId);
});

test('events are acknowledged and ignored', async () => {
  await fake.sendEnvelope('events_api', {
    type: 'event_callback',
    event_id: 'Ev1',
    event: { type: 'app_home_opened', user: 'U_DANA' },
  });
  await adapter.idle();
  expect(events).toEqual([]);
});

test('in Socket Mode no HTTP route is mounted', async () => {
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [adapter] });
  try {
    const body = slashCommandBody({ text: 'x', userId: 'U_DANA', channelId: 'C', responseUrl: fake.responseUrl() });
    const response = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(404);
  } finally {
    await server.close();
  }
});

test('stop closes the socket', async () => {
  await adapter.stop();
  await fake.waitFor(() => fake.openSockets === 0, 'the socket to close');
});

test('start refuses an app token Slack does not accept', async () => {
  const wrong = new SlackAdapter({
    botToken: FAKE_BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    appToken: 'xapp-wrong',
    apiUrl: fake.apiUrl,
  });
  await expect(wrong.start(async () => ({ kind: 'none' }), { locale: 'en' })).rejects.toThrow(/invalid_auth/);
  await wrong.stop();
});
