import { FeishuAdapter } from '../../../adapters/feishu/feishu-adapter';
import { FEISHU_EVENTS_PATH } from '../../../adapters/feishu/events-route';
import { FakeFeishu, type FakeFeishuMessage } from '../../support/fake-feishu';
import { startCoreFlow, type CoreFlow } from '../../support/core-flow';
import { testConfig } from '../../support/harness';
import {
  BOT_MENTION,
  cardActionEnvelope,
  encryptedBody,
  httpModeOptions,
  messageEnvelope,
  signatureHeaders,
  type Person,
} from './feishu-requests';

// The Feishu adapter in HTTP mode in front of the real core (assemble from src/app.ts, in-memory store, dry-run
// grants), driven with signed, encrypted callbacks as Feishu sends them; the fake Feishu shows what people see.

const person = (name: string, extra: Partial<Person> = {}): Person => ({
  openId: `ou_${name}`,
  unionId: `on_${name}`,
  name,
  ...extra,
});
const DANA = person('dana');
const ALICE = person('alice');
const BOB = person('bob');
const ADMIN = person('pat');
const RACERS = Array.from({ length: 20 }, (_, i) => person(`racer${i + 1}`));

let fake: FakeFeishu;
let adapter: FeishuAdapter;
let flow: CoreFlow;
/** The whole answer to the last click: the toast, and the redrawn card when the core sent one. */
let lastAnswer: any;

beforeAll(async () => {
  const everyone = [DANA, ALICE, BOB, ADMIN, ...RACERS];
  fake = await FakeFeishu.start({
    chats: ['oc_requests', 'oc_ops', 'oc_sec'],
    users: everyone.map((p) => ({
      openId: p.openId,
      unionId: p.unionId,
      name: `${p.name![0]!.toUpperCase()}${p.name!.slice(1)} F`,
      email: `${p.name}@example.com`,
    })),
  });
  const config = testConfig((c) => {
    c.roles['ops-approvers']!.channels.feishu = 'oc_ops';
    c.roles['ops-approvers']!.members.push(`feishu:${ALICE.unionId}`, ...RACERS.map((p) => `feishu:${p.unionId}`));
    c.roles['security-leads']!.channels.feishu = 'oc_sec';
    c.roles['security-leads']!.members.push('bob@example.com');
    c.admins.push(`feishu:${ADMIN.unionId}`);
    c.identities.push({
      match: { platform: 'feishu', userId: DANA.unionId },
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
      groups: ['developers'],
    });
  });
  adapter = new FeishuAdapter(httpModeOptions(fake));
  flow = await startCoreFlow({ config, adapter, owner: 'feishu-e2e' });
});

afterAll(async () => {
  await flow.stop();
  await fake.close();
});

const settle = () => flow.settle();

async function post(envelope: object): Promise<{ status: number; json: any }> {
  const body = encryptedBody(envelope);
  const response = await fetch(flow.url + FEISHU_EVENTS_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signatureHeaders(body) },
    body,
  });
  return { status: response.status, json: await response.json() };
}

/** `@jitbot <text>` typed by `who` in a group; returns the text of jitbot's reply to that message. */
async function jit(who: Person, text: string, chatId = 'oc_requests', eventId?: string): Promise<string> {
  const messageId = fake.userMessage(chatId, `@_user_1 ${text}`);
  const envelope = messageEnvelope(`@_user_1 ${text}`, {
    sender: who,
    chatId,
    messageId,
    mentions: [BOT_MENTION],
    ...(eventId && { eventId }),
  });
  expect(await post(envelope)).toEqual({ status: 200, json: {} });
  await settle();
  const replies = fake.messages.filter((m) => m.parentId === messageId);
  expect(replies).toHaveLength(1);
  return replyText(replies[0]!);
}

/** Clicks a button on a card as `who`; returns the toast. */
async function click(
  who: Person,
  card: FakeFeishuMessage,
  action: string,
  comment?: string,
  eventId?: string,
): Promise<{ type: string; content: string }> {
  const envelope = cardActionEnvelope(action, requestIdOf(card), {
    operator: who,
    messageId: card.messageId,
    chatId: card.chatId,
    ...(comment !== undefined && { comment }),
    ...(eventId && { eventId }),
  });
  const { status, json } = await post(envelope);
  expect(status).toBe(200);
  fake.applyCallbackAnswer(card.messageId, json);
  lastAnswer = json;
  await settle();
  return json.toast;
}

const replyText = (m: FakeFeishuMessage): string =>
  (m.content.zh_cn.content as { text: string }[][])
    .flat()
    .map((e) => e.text)
    .join('');
const requestIdOf = (card: FakeFeishuMessage): string => /JIT-[0-9A-Z]{5}/.exec(card.content.header.title.content)![0];
function idIn(text: string): string {
  const match = /JIT-[0-9A-Z]{5}/.exec(text);
  if (!match) throw new Error(`no request id in: ${text}`);
  return match[0];
}
function cardFor(chatId: string, requestId: string): FakeFeishuMessage {
  const card = fake
    .chatMessages(chatId)
    .find((m) => m.msgType === 'interactive' && m.content.header.title.content.startsWith(requestId));
  if (!card) throw new Error(`no card for ${requestId} in ${chatId}`);
  return card;
}
function buttons(card: FakeFeishuMessage): string[] {
  return (JSON.stringify(card.content).match(/"tag":"button","name":"(\w+)"/g) ?? []).map(
    (m) => /"name":"(\w+)"/.exec(m)![1]!,
  );
}
const threadTexts = (card: FakeFeishuMessage): string[] => fake.replies(card.messageId).map(replyText);

test('two levels in two groups: approve with comments, then the grant; thread replies and a DM', async () => {
  const submitted = await jit(DANA, 'web-1 fix nginx for 2h');
  expect(submitted).toContain('waiting for Level 1 of 2');
  const requestId = idIn(submitted);

  const opsCard = cardFor('oc_ops', requestId);
  expect(opsCard.content.config.update_multi).toBe(true);
  expect(opsCard.content.header.template).toBe('orange');
  expect(JSON.stringify(opsCard.content)).toContain('"tag":"person","user_id":"on_dana"');
  expect(buttons(opsCard)).toEqual(['approve', 'reject']);
  expect(fake.chatMessages('oc_sec')).toEqual([]);

  expect((await click(BOB, opsCard, 'approve')).type).toBe('error');
  const approved = await click(ALICE, opsCard, 'approve', 'checked the change ticket');
  expect(approved).toEqual({
    type: 'success',
    content: expect.stringContaining(`Recorded your approval of ${requestId}`),
  });

  const securityCard = cardFor('oc_sec', requestId);
  expect(buttons(securityCard)).toEqual(['approve', 'reject']);
  expect(buttons(cardFor('oc_ops', requestId))).toEqual([]);
  expect(threadTexts(opsCard).join('\n')).toContain('checked the change ticket');
  expect(fake.replies(opsCard.messageId).every((m) => m.threadId !== undefined)).toBe(true);

  expect((await click(BOB, securityCard, 'approve', 'ok for 2h')).content).toContain(
    `Recorded your approval of ${requestId}`,
  );
  const finalCard = cardFor('oc_sec', requestId);
  expect(finalCard.content.header.template).toBe('green');
  expect(buttons(finalCard)).toEqual(['revoke']);
  expect(threadTexts(finalCard).join('\n')).toContain('aws ssm start-session --target i-0123456789abcdef0');
  expect(fake.chatMessages(`oc_dm_${DANA.unionId}`).map(replyText).join('\n')).toContain(`Your request ${requestId}`);
});

test('reject with a comment: the card loses its buttons; a late click gets an error toast and changes nothing', async () => {
  const before = flow.granter.granted;
  const requestId = idIn(await jit(DANA, 'i-0b0b0b0b0b0b0b0b1 rerun the batch'));
  const card = cardFor('oc_ops', requestId);
  expect((await click(ALICE, card, 'reject', 'use the scheduler instead')).content).toContain(
    `Recorded your rejection of ${requestId}`,
  );
  // The redrawn card comes back in the click's response, within Feishu's 3 seconds.
  expect(lastAnswer.card).toMatchObject({
    type: 'raw',
    data: { schema: '2.0', config: { update_multi: true }, header: { template: 'red' } },
  });
  const rejected = cardFor('oc_ops', requestId);
  expect(rejected.content.header.template).toBe('red');
  expect(buttons(rejected)).toEqual([]);
  expect(JSON.stringify(rejected.content)).not.toContain('"tag":"form"');
  expect(JSON.stringify(rejected.content)).toContain('use the scheduler instead');

  const late = await click(RACERS[0]!, card, 'approve');
  expect(late).toEqual({ type: 'error', content: expect.stringContaining(`${requestId} was already rejected`) });
  expect(flow.granter.granted).toBe(before);
});

test("a click whose response never reaches Feishu: the outbox's PATCH still takes the buttons off", async () => {
  const requestId = idIn(await jit(DANA, 'i-0b0b0b0b0b0b0b0b1 look at the lost response'));
  const card = cardFor('oc_ops', requestId);
  // The response (toast and redrawn card) is lost on the way: the fake is not told of it.
  const { status, json } = await post(
    cardActionEnvelope('reject', requestId, { operator: ALICE, messageId: card.messageId, chatId: card.chatId }),
  );
  expect(status).toBe(200);
  expect(json.card.data.header.template).toBe('red');
  await settle();
  const shown = cardFor('oc_ops', requestId);
  expect(shown.content.header.template).toBe('red');
  expect(buttons(shown)).toEqual([]);
});

test('twenty approvers click at once: one grant, nineteen error toasts', async () => {
  const requestId = idIn(await jit(DANA, 'i-0b0b0b0b0b0b0b0b1 investigate the disk'));
  const card = cardFor('oc_ops', requestId);
  const before = flow.granter.granted;
  const toasts = await Promise.all(RACERS.map((racer) => click(racer, card, 'approve')));
  expect(toasts.filter((t) => t.type === 'success')).toHaveLength(1);
  expect(
    toasts.filter((t) => t.type === 'error' && t.content.includes(`${requestId} was already approved by`)),
  ).toHaveLength(19);
  expect(flow.granter.granted - before).toBe(1);
  expect(buttons(cardFor('oc_ops', requestId))).toEqual(['revoke']);
});

test('a redelivered message and a redelivered click change nothing the second time', async () => {
  const cardsBefore = fake.chatMessages('oc_ops').length;
  await jit(DANA, 'web-2 rotate logs', 'oc_requests', 'ev_redelivered');
  const messageId = fake.userMessage('oc_requests', '@_user_1 web-2 rotate logs');
  expect(
    await post(
      messageEnvelope('@_user_1 web-2 rotate logs', {
        sender: DANA,
        chatId: 'oc_requests',
        messageId,
        mentions: [BOT_MENTION],
        eventId: 'ev_redelivered',
      }),
    ),
  ).toEqual({ status: 200, json: {} });
  await settle();
  expect(fake.chatMessages('oc_ops')).toHaveLength(cardsBefore + 1);
  expect(fake.messages.filter((m) => m.parentId === messageId)).toEqual([]);

  const requestId = idIn(await jit(DANA, 'web-1 check the redelivery'));
  const card = cardFor('oc_ops', requestId);
  expect((await click(ALICE, card, 'reject', 'first', 'ev_click_twice')).type).toBe('success');
  expect(await click(ALICE, card, 'reject', 'first', 'ev_click_twice')).toBeUndefined();
  expect(threadTexts(card).filter((t) => t.includes('first'))).toHaveLength(1);
});

test('a hostile reason stays plain text on the card', async () => {
  const hostile = 'fix <at user_id="all"></at> @_all **now** <script>x</script> [x](https://evil.example)';
  const requestId = idIn(await jit(DANA, `web-1 ${hostile}`));
  const card = cardFor('oc_ops', requestId);
  const json = JSON.stringify(card.content);
  expect(json).not.toMatch(/"tag":"(markdown|lark_md)"/);
  expect(json).not.toMatch(/<at |@all/);
  expect(json.replace(/\\u2060|\u2060/g, '')).toContain(
    'fix <at user_id=\\"all\\"></at> @all **now** <script>x</script> [x](https://evil.example)',
  );
});

test('an admin maps a group with @jitbot /jit admin map-channel', async () => {
  expect(await jit(ALICE, '/jit admin map-channel ops-approvers', 'oc_requests')).toContain('Only admins');
  expect(await jit(ADMIN, '/jit admin map-channel ops-approvers', 'oc_requests')).toBe(
    'This channel now speaks for ops-approvers.',
  );
  expect(await jit(ADMIN, 'admin unmap-channel', 'oc_requests')).toBe(
    'This channel no longer speaks for ops-approvers.',
  );
});
