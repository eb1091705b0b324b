import {
  DingTalkStreamClient,
  StreamCredentialsRefused,
  TOPIC_CARD_CALLBACK,
  TOPIC_ROBOT_MESSAGE,
  type StreamCallback,
  type StreamClientOptions,
} from '../../../adapters/dingtalk/stream-client';
import { silentLogger } from '../../../src/http/middleware';
import { FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeDingTalk } from '../../support/fake-dingtalk';

// The Stream client against a local fake gateway: connections/open, the WebSocket frames, acks by messageId,
// and reconnects with backoff. Delays are shortened by injection; nothing asserts on wall-clock speed.

let fake: FakeDingTalk;
let client: DingTalkStreamClient | undefined;
let received: StreamCallback[];

beforeEach(async () => {
  fake = await FakeDingTalk.start();
  received = [];
});

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await fake.close();
});

function startClient(overrides: Partial<StreamClientOptions> = {}): DingTalkStreamClient {
  client = new DingTalkStreamClient({
    clientId: FAKE_CLIENT_ID,
    clientSecret: FAKE_CLIENT_SECRET,
    gatewayUrl: fake.url,
    topics: [TOPIC_ROBOT_MESSAGE, TOPIC_CARD_CALLBACK],
    logger: silentLogger,
    backoff: { initialMs: 20, maxMs: 320, stableMs: 60_000 },
    onCallback: async (callback) => {
      received.push(callback);
      return { ok: true };
    },
    ...overrides,
  });
  return client;
}

test('start opens one connection with the client id, secret and the CALLBACK topics', async () => {
  await startClient().start();
  expect(fake.callsTo('/v1.0/gateway/connections/open')).toHaveLength(1);
  expect(fake.callsTo('/v1.0/gateway/connections/open')[0]!.body).toMatchObject({
    clientId: FAKE_CLIENT_ID,
    clientSecret: FAKE_CLIENT_SECRET,
  });
  expect(fake.tickets[0]!.subscriptions).toEqual([
    { type: 'CALLBACK', topic: TOPIC_ROBOT_MESSAGE },
    { type: 'CALLBACK', topic: TOPIC_CARD_CALLBACK },
  ]);
  expect(fake.openSockets).toBe(1);
  expect(client!.connected).toBe(true);
});

test('refused credentials fail start-up with an actionable message that does not contain the secret', async () => {
  const wrong = startClient({ clientSecret: 'wrong-secret-value' });
  const failure = wrong.start();
  await expect(failure).rejects.toBeInstanceOf(StreamCredentialsRefused);
  await expect(failure).rejects.toThrow(/client id and client secret/);
  await expect(failure).rejects.not.toThrow(/wrong-secret-value/);
  expect(fake.openSockets).toBe(0);
});

test('a SYSTEM ping is echoed with its headers and data', async () => {
  await startClient().start();
  const pong = await fake.ping();
  expect(pong).toMatchObject({ code: 200, message: 'OK', headers: { topic: 'ping' } });
  expect(pong.data).toHaveProperty('opaque');
});

test("a CALLBACK is acked by its messageId with the handler's answer, only after the handler has finished", async () => {
  let release!: () => void;
  const handled = new Promise<void>((resolve) => (release = resolve));
  let finished = false;
  await startClient({
    onCallback: async (callback) => {
      received.push(callback);
      await handled;
      finished = true;
      return { cardData: { cardParamMap: { status: 'approved' } } };
    },
  }).start();

  const acked = fake.sendCallback(TOPIC_CARD_CALLBACK, { outTrackId: 'JIT-7K3Q2' }, { messageId: 'msg-1' });
  await fake.waitFor(() => received.length === 1, 'the handler');
  expect(fake.acks).toEqual([]);
  release();
  const ack = await acked;
  expect(finished).toBe(true);
  expect(ack).toEqual({
    code: 200,
    headers: { contentType: 'application/json', messageId: 'msg-1' },
    message: 'OK',
    data: { response: { cardData: { cardParamMap: { status: 'approved' } } } },
  });
  expect(received[0]).toEqual({
    topic: TOPIC_CARD_CALLBACK,
    messageId: 'msg-1',
    data: JSON.stringify({ outTrackId: 'JIT-7K3Q2' }),
  });
});

test('a CALLBACK whose handler fails is not acked, so DingTalk redelivers it', async () => {
  let calls = 0;
  await startClient({
    onCallback: async () => {
      calls += 1;
      if (calls === 1) throw new Error('store unavailable');
      return 'SUCCESS';
    },
  }).start();
  await expect(
    fake.sendCallback(TOPIC_ROBOT_MESSAGE, { msgId: 'm' }, { messageId: 'msg-2', timeoutMs: 300 }),
  ).rejects.toThrow(/timed out/);
  await client!.idle();
  expect(fake.acks).toEqual([]);
  // The redelivery (same messageId) is handled and acked.
  const ack = await fake.sendCallback(TOPIC_ROBOT_MESSAGE, { msgId: 'm' }, { messageId: 'msg-2' });
  expect(ack.data).toEqual({ response: 'SUCCESS' });
});

test('the fake drops the socket five times within ten seconds: one connection at a time, and each retry waits longer', async () => {
  const delays: number[] = [];
  fake.openDelayMs = 15;
  await startClient({ onReconnectScheduled: (delay) => delays.push(delay) }).start();

  for (let drop = 1; drop <= 5; drop++) {
    fake.dropSockets();
    await fake.waitFor(
      () => fake.tickets.length === drop + 1 && fake.openSockets === 1 && client!.connected,
      `reconnect ${drop}`,
    );
  }

  expect(fake.maxOpenSockets).toBe(1);
  expect(fake.maxConcurrentOpens).toBe(1);
  expect(fake.callsTo('/v1.0/gateway/connections/open')).toHaveLength(6);
  expect(delays).toHaveLength(5);
  // Equal jitter: attempt n waits within [c/2, c] for c = 20·2ⁿ ms, so no wait is shorter than the one before.
  for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
  delays.forEach((delay, attempt) => {
    expect(delay).toBeGreaterThanOrEqual((20 * 2 ** attempt) / 2);
    expect(delay).toBeLessThanOrEqual(20 * 2 ** attempt);
  });
  // Still working after all that.
  const ack = await fake.sendCallback(TOPIC_ROBOT_MESSAGE, { msgId: 'after' });
  expect(ack.code).toBe(200);
});

test('while the gateway refuses sockets, attempts back off up to the ceiling and stop after stop()', async () => {
  const delays: number[] = [];
  await startClient({ random: () => 1, onReconnectScheduled: (delay) => delays.push(delay) }).start();
  fake.refuseSockets = true;
  fake.dropSockets();
  await fake.waitFor(() => delays.length >= 6, 'six scheduled attempts');
  expect(delays.slice(0, 6)).toEqual([20, 40, 80, 160, 320, 320]);
  expect(fake.maxOpenSockets).toBe(1);
  await client!.stop();
  const opens = fake.callsTo('/v1.0/gateway/connections/open').length;
  await new Promise((resolve) => setTimeout(resolve, 400));
  expect(fake.callsTo('/v1.0/gateway/connections/open')).toHaveLength(opens);

  fake.refuseSockets = false;
});

test('a connection that stayed up long enough resets the backoff', async () => {
  let now = 0;
  const delays: number[] = [];
  await startClient({ random: () => 1, now: () => now, onReconnectScheduled: (delay) => delays.push(delay) }).start();
  fake.dropSockets();
  await fake.waitFor(
    () => fake.tickets.length === 2 && fake.openSockets === 1 && client!.connected,
    'the first reconnect',
  );
  fake.dropSockets();
  await fake.waitFor(
    () => fake.tickets.length === 3 && fake.openSockets === 1 && client!.connected,
    'the second reconnect',
  );
  now += 60_000;
  fake.dropSockets();
  await fake.waitFor(
    () => fake.tickets.length === 4 && fake.openSockets === 1 && client!.connected,
    'the third reconnect',
  );
  expect(delays).toEqual([20, 40, 20]);
});

test('a SYSTEM disconnect notice lets the handler in progress ack, then reconnects once', async () => {
  let release!: () => void;
  const handled = new Promise<void>((resolve) => (release = resolve));
  await startClient({
    onCallback: async () => {
      await handled;
      return 'SUCCESS';
    },
  }).start();
  const acked = fake.sendCallback(TOPIC_ROBOT_MESSAGE, { msgId: 'x' }, { messageId: 'before-disconnect' });
  fake.sendDisconnectNotice();
  release();
  expect((await acked).headers.messageId).toBe('before-disconnect');
  await fake.waitFor(
    () => fake.tickets.length === 2 && fake.openSockets === 1 && client!.connected,
    'the new connection',
  );
  expect(fake.maxOpenSockets).toBe(1);
});

test('start while DingTalk is unreachable resolves and keeps trying in the background', async () => {
  fake.failOnce('/v1.0/gateway/connections/open', 503);
  await startClient().start();
  expect(client!.connected).toBe(false);
  await fake.waitFor(() => fake.openSockets === 1 && client!.connected, 'the background connection');
});

test('stop closes the socket and no reconnect follows', async () => {
  await startClient().start();
  await client!.stop();
  await fake.waitFor(() => fake.openSockets === 0, 'the socket to close');
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(fake.tickets).toHaveLength(1);
});
