import http from 'node:http';
import { NOT_A_COMMAND_HINT } from '../../../adapters/console/inbound';
import { t } from '../../../src/core/i18n/catalog';
import { CONSOLE_NOTICE } from '../../../adapters/console/console-adapter';
import { conversation, sampleCard, startConsole, stateOf, type ConsoleHarness } from './harness';

let console_: ConsoleHarness;

afterEach(async () => {
  await console_?.close();
});

const command = (text: string, extra: Record<string, unknown> = {}) => ({
  user: 'dana',
  channel: 'requests',
  text,
  deliveryId: 'web-delivery-0001',
  ...extra,
});

describe('bootstrap and page', () => {
  test('bootstrap lists users, channels and the local-only notice', async () => {
    console_ = await startConsole();
    const { status, body } = await console_.get('/console/api/bootstrap');
    expect(status).toBe(200);
    expect(body.platform).toBe('console');
    expect(body.users.map((u: any) => u.userId)).toEqual(['dana', 'alice', 'bob', 'carol']);
    expect(body.users[1]).toEqual({ userId: 'alice', displayName: 'Alice', description: 'Approver: ops-approvers' });
    expect(body.channels).toEqual([
      { id: 'requests', name: 'requests', private: false, description: 'Type /jit … here' },
      { id: 'ops-approvers', name: 'ops-approvers', private: true },
    ]);
    expect(body.notice).toBe(CONSOLE_NOTICE);
    expect(body.notice).toContain('127.0.0.1');
    expect(body.notice).toContain('no authentication');
  });

  test('GET / serves the page with a restrictive Content-Security-Policy', async () => {
    console_ = await startConsole();
    const response = await fetch(console_.server.url + '/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toContain('Local console — binds to 127.0.0.1 only, no authentication');
  });

  test('requests and audit views are served read-only as they are listed', async () => {
    console_ = await startConsole({
      requests: [{ id: 'JIT-1', status: 'pending' }],
      audit: [{ seq: 1, action: 'created' }],
    });
    expect(await console_.get('/console/api/requests')).toEqual({
      status: 200,
      body: { items: [{ id: 'JIT-1', status: 'pending' }] },
    });
    expect(await console_.get('/console/api/audit')).toEqual({
      status: 200,
      body: { items: [{ seq: 1, action: 'created' }] },
    });
    const write = await fetch(console_.server.url + '/console/api/requests', { method: 'POST' });
    expect(write.status).toBe(404);
  });
});

describe('commands', () => {
  test('a /jit command reaches the core as a CommandEvent; the message is public, the reply private', async () => {
    console_ = await startConsole();
    console_.replies.push({ kind: 'info', text: 'Submitted JIT-7K3Q2 for web-1' });

    const { status, body } = await console_.post('/console/api/command', command('/jit web-1 fix nginx for 2h'));

    expect(status).toBe(200);
    expect(body).toEqual({ kind: 'info', text: 'Submitted JIT-7K3Q2 for web-1' });
    expect(console_.events).toEqual([
      {
        kind: 'command',
        platform: 'console',
        deliveryId: 'web-delivery-0001',
        actor: { platform: 'console', userId: 'dana', displayName: 'Dana' },
        channel: { platform: 'console', channelId: 'requests' },
        text: 'web-1 fix nginx for 2h',
      },
    ]);

    const dana = await stateOf(console_, 'dana');
    const requests = conversation(dana, 'requests');
    expect(requests.messages).toHaveLength(1);
    expect(requests.messages[0]).toMatchObject({
      author: { kind: 'user', userId: 'dana', displayName: 'Dana' },
      text: '/jit web-1 fix nginx for 2h',
    });
    expect(dana.ephemerals).toEqual([
      expect.objectContaining({ conversationId: 'requests', kind: 'info', text: 'Submitted JIT-7K3Q2 for web-1' }),
    ]);

    const alice = await stateOf(console_, 'alice');
    expect(conversation(alice, 'requests').messages).toHaveLength(1);
    expect(alice.ephemerals).toEqual([]);
  });

  test('an error Reply is stored as an error ephemeral; a "none" Reply shows nothing', async () => {
    console_ = await startConsole();
    console_.replies.push({ kind: 'error', text: 'No node has the Name tag "web-9".' }, { kind: 'none' });

    await console_.post('/console/api/command', command('/jit web-9 look'));
    await console_.post('/console/api/command', command('/JIT', { deliveryId: 'web-delivery-0002' }));

    expect(console_.events.map((e) => (e.kind === 'command' ? e.text : ''))).toEqual(['web-9 look', '']);
    const dana = await stateOf(console_, 'dana');
    expect(dana.ephemerals).toEqual([
      expect.objectContaining({ kind: 'error', text: 'No node has the Name tag "web-9".' }),
    ]);
  });

  test('a browser retry with the same delivery id shows the message once and passes the id on for de-duplication', async () => {
    console_ = await startConsole();
    await console_.post('/console/api/command', command('/jit list'));
    await console_.post('/console/api/command', command('/jit list'));

    expect(console_.events.map((e) => e.deliveryId)).toEqual(['web-delivery-0001', 'web-delivery-0001']);
    const dana = await stateOf(console_, 'dana');
    expect(conversation(dana, 'requests').messages).toHaveLength(1);
  });

  test('text that is not a /jit command is posted but not sent to the core', async () => {
    console_ = await startConsole();
    const { body } = await console_.post('/console/api/command', command('hello everyone'));
    expect(body).toEqual({ kind: 'info', text: NOT_A_COMMAND_HINT });
    expect(console_.events).toEqual([]);
    const dana = await stateOf(console_, 'dana');
    expect(conversation(dana, 'requests').messages.map((m: any) => m.text)).toEqual(['hello everyone']);
  });

  test('a user may type commands in their own DM with the bot', async () => {
    console_ = await startConsole();
    const { status } = await console_.post('/console/api/command', command('/jit list', { channel: 'dm:dana' }));
    expect(status).toBe(200);
    expect(console_.events[0]?.channel).toEqual({ platform: 'console', channelId: 'dm:dana' });
  });

  test('a failing core answers 500 without details and tells the user privately', async () => {
    console_ = await startConsole({ handlerError: new Error('secret-token-abc leaked?') });
    const { status, body } = await console_.post('/console/api/command', command('/jit list'));
    expect(status).toBe(500);
    expect(body).toEqual({ error: 'internal error' });
    const dana = await stateOf(console_, 'dana');
    expect(dana.ephemerals).toEqual([expect.objectContaining({ kind: 'error', text: t('en', 'inbound.failed') })]);
  });

  test('before start() commands are refused with 503 and nothing is posted', async () => {
    console_ = await startConsole({ start: false });
    const { status, body } = await console_.post('/console/api/command', command('/jit list'));
    expect(status).toBe(503);
    expect(body.error).toMatch(/starting/);
    expect(conversation(await stateOf(console_, 'dana'), 'requests').messages).toEqual([]);
  });
});

describe('card actions', () => {
  test('a click becomes an ActionEvent with the comment and the card it came from', async () => {
    console_ = await startConsole();
    const card = await console_.adapter.postCard({ platform: 'console', channelId: 'ops-approvers' }, sampleCard());
    console_.replies.push({ kind: 'info', text: 'Approved JIT-7K3Q2' });

    const { status, body } = await console_.post('/console/api/action', {
      user: 'alice',
      channel: 'ops-approvers',
      messageId: card.messageId,
      requestId: 'JIT-7K3Q2',
      action: 'approve',
      comment: '  looks fine  ',
      deliveryId: 'web-click-0001',
    });

    expect(status).toBe(200);
    expect(body).toEqual({ kind: 'info', text: 'Approved JIT-7K3Q2' });
    expect(console_.events).toEqual([
      {
        kind: 'action',
        platform: 'console',
        deliveryId: 'web-click-0001',
        actor: { platform: 'console', userId: 'alice', displayName: 'Alice' },
        channel: { platform: 'console', channelId: 'ops-approvers' },
        action: 'approve',
        requestId: 'JIT-7K3Q2',
        comment: 'looks fine',
        message: { platform: 'console', channelId: 'ops-approvers', messageId: card.messageId },
      },
    ]);
    const alice = await stateOf(console_, 'alice');
    expect(alice.ephemerals).toEqual([
      expect.objectContaining({ conversationId: 'ops-approvers', text: 'Approved JIT-7K3Q2' }),
    ]);
    expect((await stateOf(console_, 'bob')).ephemerals).toEqual([]);
  });

  test('an empty comment is left out of the event', async () => {
    console_ = await startConsole();
    const card = await console_.adapter.postCard({ platform: 'console', channelId: 'ops-approvers' }, sampleCard());
    await console_.post('/console/api/action', {
      user: 'alice',
      channel: 'ops-approvers',
      messageId: card.messageId,
      requestId: 'JIT-7K3Q2',
      action: 'reject',
      comment: '   ',
      deliveryId: 'web-click-0002',
    });
    expect(console_.events[0]).not.toHaveProperty('comment');
  });

  test.each([
    [{ messageId: 'id-404' }, /not in this channel/],
    [{ channel: 'requests' }, /not in this channel/],
    [{ requestId: 'JIT-OTHER' }, /different request/],
    [{ comment: 'x'.repeat(21) }, /too long.*20/],
    [{ action: 'delete' }, /action/],
  ])('a click that does not match a card is refused with 400 (%j)', async (override, message) => {
    console_ = await startConsole();
    const card = await console_.adapter.postCard({ platform: 'console', channelId: 'ops-approvers' }, sampleCard());
    const { status, body } = await console_.post('/console/api/action', {
      user: 'alice',
      channel: 'ops-approvers',
      messageId: card.messageId,
      requestId: 'JIT-7K3Q2',
      action: 'approve',
      deliveryId: 'web-click-0003',
      ...override,
    });
    expect(status).toBe(400);
    expect(body.error).toMatch(message);
    expect(console_.events).toEqual([]);
  });
});

describe('what the core sends', () => {
  test('postCard, updateCard and replyInThread appear in the channel for every user', async () => {
    console_ = await startConsole();
    const ref = await console_.adapter.postCard({ platform: 'console', channelId: 'ops-approvers' }, sampleCard());
    expect(ref).toEqual({ platform: 'console', channelId: 'ops-approvers', messageId: expect.any(String) });

    const decided = sampleCard({
      version: 2,
      status: 'approved',
      statusText: '✅ Approved',
      actions: [],
      progress: undefined,
    });
    await console_.adapter.updateCard(ref, decided);
    await console_.adapter.updateCard(ref, decided);
    const reply = await console_.adapter.replyInThread(ref, 'Alice approved: looks fine');
    expect(reply).toEqual({
      platform: 'console',
      channelId: 'ops-approvers',
      messageId: expect.any(String),
      threadId: ref.messageId,
    });
    await console_.adapter.replyInThread(reply, 'Access granted until 16:03');

    for (const user of ['dana', 'alice', 'bob', 'carol']) {
      const channel = conversation(await stateOf(console_, user), 'ops-approvers');
      expect(channel.private).toBe(true);
      expect(channel.messages).toHaveLength(1);
      const [message] = channel.messages;
      expect(message.id).toBe(ref.messageId);
      expect(message.author).toEqual({ kind: 'bot', displayName: 'jitbot' });
      expect(message.card).toMatchObject({
        requestId: 'JIT-7K3Q2',
        version: 2,
        status: 'approved',
        statusText: '✅ Approved',
        actions: [],
      });
      expect(message.thread.map((r: any) => r.text)).toEqual([
        'Alice approved: looks fine',
        'Access granted until 16:03',
      ]);
    }
  });

  test('an update older than the card shown is ignored', async () => {
    console_ = await startConsole();
    const ref = await console_.adapter.postCard(
      { platform: 'console', channelId: 'requests' },
      sampleCard({ version: 3, statusText: 'v3' }),
    );
    await console_.adapter.updateCard(ref, sampleCard({ version: 2, statusText: 'v2' }));
    const [message] = conversation(await stateOf(console_, 'dana'), 'requests').messages;
    expect(message.card.statusText).toBe('v3');
  });

  test('after a restart, cards and thread replies for messages the console no longer has are shown again', async () => {
    console_ = await startConsole();
    const before = { platform: 'console' as const, channelId: 'ops-approvers', messageId: '01OLDMESSAGE' };
    await console_.adapter.updateCard(before, sampleCard({ version: 4, statusText: 'Timed out' }));
    await console_.adapter.replyInThread(before, 'Timed out after 1h');
    const orphan = await console_.adapter.replyInThread({ ...before, messageId: '01GONE' }, 'Access ended');
    expect(orphan).toEqual({ platform: 'console', channelId: 'ops-approvers', messageId: expect.any(String) });

    const [card, standalone] = conversation(await stateOf(console_, 'alice'), 'ops-approvers').messages;
    expect(card).toMatchObject({ id: '01OLDMESSAGE', card: { statusText: 'Timed out' } });
    expect(card.thread.map((r: any) => r.text)).toEqual(['Timed out after 1h']);
    expect(standalone).toMatchObject({ id: orphan.messageId, text: 'Access ended' });
  });

  test('a card for a channel the console does not have fails loudly', async () => {
    console_ = await startConsole();
    await expect(console_.adapter.postCard({ platform: 'console', channelId: 'random' }, sampleCard())).rejects.toThrow(
      /random/,
    );
    await expect(
      console_.adapter.updateCard({ platform: 'console', channelId: 'random', messageId: 'm1' }, sampleCard()),
    ).rejects.toThrow(/random/);
  });

  test('postMessage writes a plain channel message, mentioning a console user by name (others are not mentioned)', async () => {
    console_ = await startConsole();
    const dana = { platform: 'console' as const, userId: 'dana', displayName: 'Dana' };
    const ref = await console_.adapter.postMessage(
      { platform: 'console', channelId: 'ops-approvers' },
      'JIT-7K3Q2: approved',
      { mention: dana },
    );
    await console_.adapter.postMessage({ platform: 'console', channelId: 'ops-approvers' }, 'JIT-7K3Q2: active', {
      mention: { platform: 'slack', userId: 'U024BE7LH', displayName: 'Dana' },
    });
    const messages = conversation(await stateOf(console_, 'alice'), 'ops-approvers').messages;
    expect(messages.map((m: any) => m.text)).toEqual(['@Dana JIT-7K3Q2: approved', 'JIT-7K3Q2: active']);
    expect(ref).toEqual({ platform: 'console', channelId: 'ops-approvers', messageId: messages[0].id });
  });

  test('notifyUser writes to that user’s DM, which no one else sees', async () => {
    console_ = await startConsole();
    await console_.adapter.notifyUser(
      { platform: 'console', userId: 'dana', displayName: 'Dana' },
      'Your access to web-1 ends in 10 minutes.',
    );

    const dana = await stateOf(console_, 'dana');
    expect(dana.dms).toHaveLength(1);
    expect(dana.dms[0]).toMatchObject({ id: 'dm:dana', kind: 'dm' });
    expect(dana.dms[0].messages.map((m: any) => m.text)).toEqual(['Your access to web-1 ends in 10 minutes.']);

    const bob = await stateOf(console_, 'bob');
    expect(bob.dms.map((d: any) => d.id)).toEqual(['dm:bob']);
    expect(bob.dms[0].messages).toEqual([]);
    const action = await console_.post(
      '/console/api/command',
      command('/jit list', { user: 'bob', channel: 'dm:dana' }),
    );
    expect(action.status).toBe(400);
  });

  test('resolveUser gives the display name and a demo e-mail; capabilities are all on except e-mail lookup', async () => {
    console_ = await startConsole();
    await expect(
      console_.adapter.resolveUser({ platform: 'console', userId: 'alice', displayName: 'x' }),
    ).resolves.toEqual({
      userId: 'alice',
      displayName: 'Alice',
      email: 'alice@demo.jitbot.local',
    });
    await expect(
      console_.adapter.resolveUser({ platform: 'console', userId: 'mallory', displayName: 'M' }),
    ).rejects.toThrow(/mallory/);
    expect(console_.adapter.platform).toBe('console');
    expect(console_.adapter.capabilities).toEqual({
      threads: true,
      privateClickReply: true,
      privateCommandReply: true,
      cardInClickResponse: false,
      inlineInputs: true,
      updateInPlace: true,
      emailLookup: false,
    });
  });

  test('references for another platform are refused', async () => {
    console_ = await startConsole();
    await expect(console_.adapter.postCard({ platform: 'slack', channelId: 'requests' }, sampleCard())).rejects.toThrow(
      /slack/,
    );
  });
});

describe('live updates', () => {
  test('the event stream announces a change after postCard', async () => {
    console_ = await startConsole();
    const abort = new AbortController();
    const response = await fetch(console_.server.url + '/console/api/events', { signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stream = eventReader(response);

    expect(await stream.next()).toEqual({ event: 'changed', data: { seq: 0 } });
    await console_.adapter.postCard({ platform: 'console', channelId: 'requests' }, sampleCard());
    expect(await stream.next()).toEqual({ event: 'changed', data: { seq: 1 } });
    abort.abort();
  });

  test('closing the server ends open event streams', async () => {
    console_ = await startConsole();
    const response = await fetch(console_.server.url + '/console/api/events');
    const stream = eventReader(response);
    await stream.next();
    await console_.close();
    await expect(stream.next()).rejects.toThrow();
  });
});

describe('validation and hostile input', () => {
  test.each([
    ['unknown user', { user: 'mallory' }, /Unknown user\. Known users: dana, alice, bob, carol/],
    ['unknown channel', { channel: 'random' }, /Unknown channel\. Known channels: requests, ops-approvers/],
    ['missing delivery id', { deliveryId: undefined }, /deliveryId/],
    ['bad delivery id', { deliveryId: 'has spaces in it' }, /deliveryId/],
    ['empty text', { text: '   ' }, /Type a command/],
    ['text too long', { text: '/jit ' + 'a'.repeat(2000) }, /text/],
  ])('%s → 400 with a clear message', async (_name, override, message) => {
    console_ = await startConsole();
    const { status, body } = await console_.post('/console/api/command', command('/jit list', override));
    expect(status).toBe(400);
    expect(body.error).toMatch(message);
    expect(console_.events).toEqual([]);
  });

  test('state needs a known user', async () => {
    console_ = await startConsole();
    expect((await console_.get('/console/api/state')).status).toBe(400);
    expect(await console_.get('/console/api/state?user=mallory')).toEqual({
      status: 400,
      body: { error: 'Unknown user. Known users: dana, alice, bob, carol.' },
    });
  });

  test('a body that is not JSON is refused', async () => {
    console_ = await startConsole();
    const form = await fetch(console_.server.url + '/console/api/command', { method: 'POST', body: 'user=dana' });
    expect(form.status).toBe(400);
    expect(((await form.json()) as { error: string }).error).toMatch(/JSON/);
    const broken = await fetch(console_.server.url + '/console/api/command', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"user": ',
    });
    expect(broken.status).toBe(400);
  });

  test('hostile text is kept and returned as data', async () => {
    console_ = await startConsole();
    const hostile = '/jit web-1 <script>alert(1)</script> <!channel> <img src=x onerror=alert(2)>';
    console_.replies.push({ kind: 'error', text: 'No node "<b>web-1</b>"' });
    await console_.post('/console/api/command', command(hostile));
    await console_.adapter.postCard(
      { platform: 'console', channelId: 'requests' },
      sampleCard({ reason: '<script>alert(3)</script> <!channel>' }),
    );

    expect(console_.events[0]).toMatchObject({
      text: 'web-1 <script>alert(1)</script> <!channel> <img src=x onerror=alert(2)>',
    });
    const response = await fetch(console_.server.url + '/console/api/state?user=dana');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const dana: any = await response.json();
    const [typed, card] = conversation(dana, 'requests').messages;
    expect(typed.text).toBe(hostile);
    expect(card.card.reason).toBe('<script>alert(3)</script> <!channel>');
    expect(dana.ephemerals[0].text).toBe('No node "<b>web-1</b>"');
  });

  test('requests addressed to a non-loopback host name are refused (DNS rebinding)', async () => {
    console_ = await startConsole();
    const rebound = await rawGet(console_.server.port, '/console/api/bootstrap', { Host: 'attacker.example:80' });
    expect(rebound.status).toBe(403);
    const page = await rawGet(console_.server.port, '/', { Host: 'attacker.example' });
    expect(page.status).toBe(403);
    const local = await rawGet(console_.server.port, '/console/api/bootstrap', {
      Host: `localhost:${console_.server.port}`,
    });
    expect(local.status).toBe(200);
  });

  test('cross-origin posts are refused', async () => {
    console_ = await startConsole();
    const response = await fetch(console_.server.url + '/console/api/command', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://attacker.example' },
      body: JSON.stringify(command('/jit list')),
    });
    expect(response.status).toBe(403);
    expect(console_.events).toEqual([]);
  });
});

function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads Server-Sent Events one at a time (skipping retry and comment lines). */
function eventReader(response: Response): { next(): Promise<{ event: string; data: unknown }> } {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length);
          const data = lines.find((l) => l.startsWith('data: '))?.slice('data: '.length);
          if (event !== undefined && data !== undefined) return { event, data: JSON.parse(data) };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
  };
}
