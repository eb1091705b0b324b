import { createHmac } from 'node:crypto';
import { SlackAdapter } from '../../../adapters/slack/slack-adapter';
import { t } from '../../../src/core/i18n/catalog';
import { startHttpServer, type RunningHttpServer } from '../../../src/http/server';
import type { ActionEvent, CommandEvent, InboundEvent, Reply } from '../../../src/ports/chat';
import { FAKE_BOT_TOKEN, FakeSlack } from '../../support/fake-slack';
import { blockActionsBody, postSigned, sign, SIGNING_SECRET, slashCommandBody } from './slack-requests';

// The inbound side over real HTTP: signed requests as Slack sends them, a fake core handler, and the fake Slack
// recording what comes back through response_url.

let fake: FakeSlack;
let adapter: SlackAdapter;
let server: RunningHttpServer;
let events: InboundEvent[];
let nextReply: (event: InboundEvent) => Promise<Reply>;

beforeEach(async () => {
  fake = await FakeSlack.start({
    users: [
      { id: 'U_DANA', name: 'dana', realName: 'Dana Developer', displayName: 'Dana', email: 'dana@example.com' },
      { id: 'U_ALICE', name: 'alice', realName: 'Alice Approver', email: 'alice@example.com' },
    ],
  });
  adapter = new SlackAdapter({ botToken: FAKE_BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl });
  server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [adapter] });
  events = [];
  nextReply = async () => ({ kind: 'info', text: 'done' });
  await adapter.start(
    async (event) => {
      events.push(event);
      return nextReply(event);
    },
    { locale: 'en' },
  );
});

afterEach(async () => {
  await adapter.stop();
  await server.close();
  await fake.close();
});

function command(text: string, extra: { triggerId?: string; responseId?: string } = {}) {
  return slashCommandBody({
    text,
    userId: 'U_DANA',
    userName: 'dana',
    channelId: 'C_REQUESTS',
    responseUrl: fake.responseUrl(extra.responseId),
    ...(extra.triggerId && { triggerId: extra.triggerId }),
  });
}

test('a slash command is acknowledged before the core answers; the reply then arrives ephemerally', async () => {
  let release!: (reply: Reply) => void;
  let settled = false;
  nextReply = () =>
    new Promise<Reply>((resolve) => {
      release = resolve;
    }).finally(() => {
      settled = true;
    });

  const response = await postSigned(server.url, command('web-1 fix nginx for 2h', { responseId: 'cmd-1' }));
  expect(response.status).toBe(200);
  expect(await response.text()).toBe('');
  // The HTTP answer is in while the core's work is still pending.
  await fake.waitFor(() => events.length === 1, 'the handler to be called');
  expect(settled).toBe(false);
  expect(fake.responsesTo('cmd-1')).toEqual([]);

  release({ kind: 'info', text: 'Submitted JIT-7K3Q2' });
  const [answer] = await fake.waitFor(
    () => fake.responsesTo('cmd-1').length > 0 && fake.responsesTo('cmd-1'),
    'the reply',
  );
  expect(answer!.body).toMatchObject({
    response_type: 'ephemeral',
    replace_original: false,
    text: 'Submitted JIT-7K3Q2',
  });
  expect(answer!.body.blocks).toEqual([
    { type: 'section', text: { type: 'plain_text', text: 'Submitted JIT-7K3Q2', emoji: true } },
  ]);

  const event = events[0] as CommandEvent;
  expect(event).toMatchObject({
    kind: 'command',
    platform: 'slack',
    text: 'web-1 fix nginx for 2h',
    channel: { platform: 'slack', channelId: 'C_REQUESTS' },
    // The name people see, from users.info, rather than the legacy user_name.
    actor: { platform: 'slack', userId: 'U_DANA', displayName: 'Dana' },
  });
  expect(event.deliveryId).toMatch(/^cmd-[0-9a-f]{32}$/);
});

test('a button click with a typed comment becomes an ActionEvent; a refusal is shown only to the clicker', async () => {
  nextReply = async () => ({ kind: 'error', text: 'JIT-7K3Q2 was already approved by Bob' });
  const body = blockActionsBody({
    userId: 'U_ALICE',
    channelId: 'C_OPS',
    messageTs: '1736931600.000101',
    action: 'approve',
    requestId: 'JIT-7K3Q2',
    comment: '  checked the change ticket  ',
    responseUrl: fake.responseUrl('click-1'),
  });
  const response = await postSigned(server.url, body);
  expect(response.status).toBe(200);

  const [answer] = await fake.waitFor(
    () => fake.responsesTo('click-1').length > 0 && fake.responsesTo('click-1'),
    'the reply',
  );
  expect(answer!.body).toMatchObject({
    response_type: 'ephemeral',
    replace_original: false,
    text: 'JIT-7K3Q2 was already approved by Bob',
  });
  const event = events[0] as ActionEvent;
  expect(event).toMatchObject({
    kind: 'action',
    action: 'approve',
    requestId: 'JIT-7K3Q2',
    comment: 'checked the change ticket',
    actor: { platform: 'slack', userId: 'U_ALICE', displayName: 'Alice Approver' },
    channel: { platform: 'slack', channelId: 'C_OPS' },
    message: { platform: 'slack', channelId: 'C_OPS', messageId: '1736931600.000101' },
  });
  expect(event.deliveryId).toMatch(/^act-[0-9a-f]{32}$/);
});

test('an empty comment box means no comment', async () => {
  const body = blockActionsBody({
    userId: 'U_ALICE',
    channelId: 'C_OPS',
    messageTs: '1736931600.000101',
    action: 'reject',
    requestId: 'JIT-7K3Q2',
    comment: null,
    responseUrl: fake.responseUrl(),
  });
  expect((await postSigned(server.url, body)).status).toBe(200);
  await adapter.idle();
  expect(events).toHaveLength(1);
  expect(events[0]).not.toHaveProperty('comment');
});

describe('requests that are not from Slack are refused and reach nothing', () => {
  const refused = async (response: Response) => {
    expect(response.status).toBe(401);
    await adapter.idle();
    expect(events).toEqual([]);
    expect(fake.responses).toEqual([]);
  };

  test('wrong signing secret', async () => {
    await refused(await postSigned(server.url, command('web-1 fix'), { secret: 'not-the-secret' }));
  });

  test('body changed after signing', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = sign(command('web-1 fix'), timestamp);
    await refused(await postSigned(server.url, command('web-1 fix; also db-1'), { timestamp, signature }));
  });

  test('missing signature headers', async () => {
    const response = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: command('web-1 fix'),
    });
    await refused(response);
  });

  test('timestamp more than five minutes old, even with a valid signature', async () => {
    await refused(
      await postSigned(server.url, command('web-1 fix'), { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }),
    );
  });

  test('timestamp more than five minutes ahead', async () => {
    await refused(
      await postSigned(server.url, command('web-1 fix'), { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 }),
    );
  });

  test('a body that is not UTF-8', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const bytes = Buffer.concat([Buffer.from('command=%2Fjit&text='), Buffer.from([0xff, 0xfe])]);
    const signature =
      'v0=' +
      createHmac('sha256', SIGNING_SECRET)
        .update(Buffer.concat([Buffer.from(`v0:${timestamp}:`), bytes]))
        .digest('hex');
    const response = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Slack-Request-Timestamp': String(timestamp),
        'X-Slack-Signature': signature,
      },
      body: bytes,
    });
    await refused(response);
  });
});

test('a redelivery (X-Slack-Retry-Num) is acknowledged and carries the same delivery id', async () => {
  const body = command('web-1 fix nginx', { triggerId: '1736931600.1234.abcdef' });
  expect((await postSigned(server.url, body)).status).toBe(200);
  await adapter.idle();
  // Handled already: the redelivery reaches the core, which de-duplicates it durably by the same id.
  expect((await postSigned(server.url, body, { retryNum: 1 })).status).toBe(200);
  await adapter.idle();
  expect(events).toHaveLength(2);
  expect(events[1]!.deliveryId).toBe(events[0]!.deliveryId);

  const other = command('web-1 fix nginx', { triggerId: '1736931600.1234.other' });
  expect((await postSigned(server.url, other)).status).toBe(200);
  await adapter.idle();
  expect(events[2]!.deliveryId).not.toBe(events[0]!.deliveryId);
});

test('a redelivery while the first delivery is still being handled joins it: the core runs once, the person is answered once', async () => {
  let release!: (reply: Reply) => void;
  nextReply = () => new Promise<Reply>((resolve) => (release = resolve));
  const body = command('web-1 fix nginx', { triggerId: '1736931600.1234.inflight', responseId: 'inflight' });
  expect((await postSigned(server.url, body)).status).toBe(200);
  await fake.waitFor(() => events.length === 1, 'the handler to be called');
  expect((await postSigned(server.url, body, { retryNum: 1 })).status).toBe(200);
  release({ kind: 'info', text: 'Submitted JIT-7K3Q2' });
  await adapter.idle();
  expect(events).toHaveLength(1);
  expect(fake.responsesTo('inflight').map((r) => r.body.text)).toEqual(['Submitted JIT-7K3Q2']);
});

test('the Events API URL check is answered with its challenge', async () => {
  const body = JSON.stringify({ token: 'x', challenge: 'challenge-123', type: 'url_verification' });
  const response = await postSigned(server.url, body, { contentType: 'application/json' });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ challenge: 'challenge-123' });
  expect(events).toEqual([]);
});

test('a body that is neither a form nor JSON is refused with 415 and reaches nothing', async () => {
  const response = await postSigned(server.url, command('web-1 fix'), { contentType: 'text/plain' });
  expect(response.status).toBe(415);
  await adapter.idle();
  expect(events).toEqual([]);
});

test('an unreadable slash command is refused with 400, naming the field but not its value', async () => {
  const fields = Object.fromEntries(new URLSearchParams(command('web-1 fix')));
  const response = await postSigned(
    server.url,
    new URLSearchParams({ ...fields, response_url: 'not a url' }).toString(),
  );
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: string }).error).toBe('unreadable slash command (response_url)');
  expect(events).toEqual([]);
});

test("Slack's certificate check is answered and does nothing", async () => {
  const response = await fetch(`${server.url}/slack/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'ssl_check=1&token=legacy',
  });
  expect(response.status).toBe(200);
  expect(events).toEqual([]);
});

test('clicks on anything but the card buttons are acknowledged and ignored', async () => {
  const body = blockActionsBody({
    userId: 'U_ALICE',
    channelId: 'C_OPS',
    messageTs: '1736931600.000101',
    action: 'something_else',
    requestId: 'JIT-7K3Q2',
    responseUrl: fake.responseUrl(),
  });
  expect((await postSigned(server.url, body)).status).toBe(200);
  await adapter.idle();
  expect(events).toEqual([]);
});

test('a handler failure gives the person a short message, not the error', async () => {
  nextReply = async () => {
    throw new Error('table jitbot not found (secret detail)');
  };
  await postSigned(server.url, command('web-1 fix', { responseId: 'fail-1' }));
  const [answer] = await fake.waitFor(
    () => fake.responsesTo('fail-1').length > 0 && fake.responsesTo('fail-1'),
    'the reply',
  );
  expect(answer!.body.text).toBe(t('en', 'inbound.failed'));
});

test('a reply of kind none sends nothing', async () => {
  nextReply = async () => ({ kind: 'none' });
  await postSigned(server.url, command('web-1 fix', { responseId: 'none-1' }));
  await adapter.idle();
  expect(events).toHaveLength(1);
  expect(fake.responses).toEqual([]);
});

test('before start (or after stop) a command is answered with "still starting"', async () => {
  await adapter.stop();
  await postSigned(server.url, command('web-1 fix', { responseId: 'early' }));
  const [answer] = await fake.waitFor(
    () => fake.responsesTo('early').length > 0 && fake.responsesTo('early'),
    'the reply',
  );
  expect(answer!.body.text).toBe(t('en', 'inbound.not_ready'));
  expect(events).toEqual([]);
});
