import { randomUUID } from 'node:crypto';
import { SlackAdapter } from '../../../adapters/slack/slack-adapter';
import type { ManualPolicy } from '../../../src/core/policy-model';
import { FAKE_BOT_TOKEN, FakeSlack, type FakeMessage } from '../../support/fake-slack';
import { startCoreFlow, type CoreFlow } from '../../support/core-flow';
import { testConfig } from '../../support/harness';
import { blockActionsBody, blockActionsPayload, postSigned, SIGNING_SECRET, slashCommandBody } from './slack-requests';

// The Slack adapter in front of the real core (assemble from src/app.ts, in-memory store, dry-run grants), driven
// with signed requests as Slack sends them; the fake Slack shows what people would see.

const RACERS = Array.from({ length: 20 }, (_, i) => `U_A${i + 1}`);
/** Named directly (not through a role) as an approver of the "default" policy; Slack ids are upper case. */
const NAMED_APPROVER = 'U02ABCDEF';

let fake: FakeSlack;
let adapter: SlackAdapter;
let flow: CoreFlow;

beforeAll(async () => {
  fake = await FakeSlack.start({
    users: [
      { id: 'U_DANA', name: 'dana', realName: 'Dana Developer', displayName: 'Dana', email: 'dana@example.com' },
      { id: 'U_ALICE', name: 'alice', realName: 'Alice Ops', email: 'alice@example.com' },
      { id: 'U_BOB', name: 'bob', realName: 'Bob Security', email: 'bob@example.com' },
      { id: 'U_ADMIN', name: 'pat', realName: 'Pat Platform', email: 'pat@example.com' },
      { id: NAMED_APPROVER, name: 'kim', realName: 'Kim Named', email: 'kim@example.com' },
      ...RACERS.map((id) => ({ id, name: id.toLowerCase(), realName: `Approver ${id}` })),
    ],
    channels: [
      { id: 'C_REQUESTS', name: 'requests', isMember: true },
      { id: 'C_OPS', name: 'ops-approvers', isPrivate: true, isMember: true },
      { id: 'C_SEC', name: 'security-leads', isPrivate: true, isMember: true },
      { id: 'C_NOT_INVITED', name: 'oncall', isPrivate: true, isMember: false },
      { id: 'C_ONCALL', name: 'oncall-2', isPrivate: true, isMember: true },
    ],
  });
  const config = testConfig((c) => {
    c.roles['ops-approvers']!.channels.slack = 'C_OPS';
    c.roles['ops-approvers']!.members.push('slack:U_ALICE', ...RACERS.map((id) => `slack:${id}`));
    c.roles['security-leads']!.channels.slack = 'C_SEC';
    c.roles['security-leads']!.members.push('slack:U_BOB');
    c.admins.push('slack:U_ADMIN');
    const fallback = c.policies.find((p): p is ManualPolicy => p.kind === 'manual' && p.name === 'default')!;
    fallback.levels[0]!.users.push(`slack:${NAMED_APPROVER}`);
    c.identities.push({
      match: { platform: 'slack', userId: 'U_DANA' },
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
      groups: ['developers'],
    });
  });
  adapter = new SlackAdapter({ botToken: FAKE_BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl });
  flow = await startCoreFlow({ config, adapter, owner: 'slack-e2e' });
});

afterAll(async () => {
  await flow.stop();
  await fake.close();
});

/** Everything the request set in motion: the reply to the person, then the outbox's posts and updates. */
const settle = () => flow.settle();

/** Types `/jit <text>` as `userId`; returns the ephemeral reply's text. */
async function jit(userId: string, text: string, channelId = 'C_REQUESTS'): Promise<string> {
  const responseId = randomUUID();
  const body = slashCommandBody({ text, userId, channelId, responseUrl: fake.responseUrl(responseId) });
  expect((await postSigned(flow.url, body)).status).toBe(200);
  await settle();
  return onlyReply(responseId);
}

/** Clicks a card button as `userId`; returns the ephemeral reply's text. */
async function click(
  userId: string,
  card: FakeMessage,
  action: 'approve' | 'reject' | 'revoke',
  comment?: string,
): Promise<string> {
  const responseId = randomUUID();
  expect((await postSigned(flow.url, clickBody(userId, card, action, responseId, comment))).status).toBe(200);
  await settle();
  return onlyReply(responseId);
}

function clickBody(userId: string, card: FakeMessage, action: string, responseId: string, comment?: string): string {
  return blockActionsBody({
    userId,
    channelId: card.channel,
    messageTs: card.ts,
    action,
    requestId: requestIdOf(card),
    responseUrl: fake.responseUrl(responseId),
    ...(comment !== undefined && { comment }),
  });
}

function onlyReply(responseId: string): string {
  const replies = fake.responsesTo(responseId);
  expect(replies).toHaveLength(1);
  expect(replies[0]!.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  return replies[0]!.body.text as string;
}

function requestIdOf(card: FakeMessage): string {
  return /JIT-[0-9A-Z]{5}/.exec(card.blocks![0].text.text)![0];
}

function idIn(text: string): string {
  const match = /JIT-[0-9A-Z]{5}/.exec(text);
  if (!match) throw new Error(`no request id in: ${text}`);
  return match[0];
}

function cardFor(channel: string, requestId: string): FakeMessage {
  const card = fake.channelMessages(channel).find((m) => m.blocks?.[0]?.text?.text?.startsWith(requestId));
  if (!card) throw new Error(`no card for ${requestId} in ${channel}`);
  return card;
}

const buttons = (card: FakeMessage): string[] =>
  (card.blocks ?? [])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements.map((e: { action_id: string }) => e.action_id));
const plainTexts = (card: FakeMessage): string[] => JSON.stringify(card.blocks).match(/"text":"[^"]*"/g) ?? [];
const threadTexts = (card: FakeMessage): string[] =>
  fake.threadReplies(card.channel, card.ts).map((m) => m.blocks![0].text.text);

test('two levels in two channels: approve with comments, then the grant', async () => {
  const submitted = await jit('U_DANA', 'web-1 fix nginx for 2h');
  expect(submitted).toContain('waiting for Level 1 of 2');
  const requestId = idIn(submitted);

  const opsCard = cardFor('C_OPS', requestId);
  expect(plainTexts(opsCard).join(' ')).toContain('web-1 (i-0123456789abcdef0)');
  expect(JSON.stringify(opsCard.blocks)).toContain('Dana');
  expect(buttons(opsCard)).toEqual(['approve', 'reject']);
  expect(fake.channelMessages('C_SEC')).toEqual([]);

  // Bob is Level 2's approver: not yet, and not from the Level 1 channel.
  expect(await click('U_BOB', opsCard, 'approve')).toMatch(/not an approver|does not speak/);

  expect(await click('U_ALICE', opsCard, 'approve', 'checked the change ticket')).toContain(
    `Recorded your approval of ${requestId}`,
  );
  const securityCard = cardFor('C_SEC', requestId);
  expect(JSON.stringify(securityCard.blocks)).toContain('Level 2 of 2');
  expect(threadTexts(opsCard).join('\n')).toContain('checked the change ticket');
  // Level 1's card now says Level 2 is open, and only Level 2's channel carries the buttons.
  expect(cardFor('C_OPS', requestId).blocks![1].text.text).toContain('Waiting for Level 2 of 2');
  expect(buttons(cardFor('C_OPS', requestId))).toEqual([]);
  expect(buttons(securityCard)).toEqual(['approve', 'reject']);

  expect(await click('U_BOB', securityCard, 'approve', 'ok for 2h')).toContain(
    `Recorded your approval of ${requestId}`,
  );
  const finalCard = cardFor('C_SEC', requestId);
  expect(finalCard.blocks![1].text.text).toMatch(/Access active until/);
  expect(buttons(finalCard)).toEqual(['revoke']);
  expect(finalCard.blocks!.some((b) => b.type === 'input')).toBe(false);
  expect(threadTexts(finalCard).join('\n')).toContain('ok for 2h');
  expect(threadTexts(finalCard).join('\n')).toContain('aws ssm start-session --target i-0123456789abcdef0');

  // The requester hears about it in a DM.
  expect(
    fake
      .channelMessages('D_U_DANA')
      .map((m) => m.blocks![0].text.text)
      .join('\n'),
  ).toContain(`Your request ${requestId}`);
});

test('reject with a comment: the card loses its buttons and shows the comment; a second click is refused', async () => {
  const grantsBefore = flow.granter.granted;
  const requestId = idIn(await jit('U_DANA', 'i-0b0b0b0b0b0b0b0b1 rerun the batch'));
  const card = cardFor('C_OPS', requestId);
  expect(buttons(card)).toEqual(['approve', 'reject']);

  expect(await click('U_ALICE', card, 'reject', 'use the scheduler instead')).toContain(
    `Recorded your rejection of ${requestId}`,
  );
  const rejected = cardFor('C_OPS', requestId);
  expect(buttons(rejected)).toEqual([]);
  expect(rejected.blocks!.some((b) => b.type === 'input')).toBe(false);
  expect(JSON.stringify(rejected.blocks)).toContain('use the scheduler instead');
  expect(rejected.blocks![1].text.text).toContain('Rejected by Alice Ops');

  // A double click (the stale card still had buttons for the clicker): refused, shown only to them.
  expect(await click('U_ALICE', card, 'reject')).toContain(`${requestId} was already rejected by Alice Ops`);
  expect(await click('U_A1', card, 'approve')).toContain(`${requestId} was already rejected`);
  expect(flow.granter.granted).toBe(grantsBefore);
});

test('twenty approvers click at once: one grant, nineteen ephemeral refusals', async () => {
  const requestId = idIn(await jit('U_DANA', 'i-0b0b0b0b0b0b0b0b1 investigate the disk'));
  const card = cardFor('C_OPS', requestId);
  const before = flow.granter.granted;

  const ids = RACERS.map(() => randomUUID());
  const responses = await Promise.all(
    RACERS.map((userId, i) => postSigned(flow.url, clickBody(userId, card, 'approve', ids[i]!))),
  );
  expect(responses.map((r) => r.status)).toEqual(RACERS.map(() => 200));
  await settle();

  const replies = ids.map((id) => onlyReply(id));
  expect(replies.filter((text) => text.startsWith(`Recorded your approval of ${requestId}`))).toHaveLength(1);
  const refusals = replies.filter((text) => text.includes(`${requestId} was already approved by`));
  expect(refusals).toHaveLength(19);
  expect(flow.granter.granted - before).toBe(1);
  expect(buttons(cardFor('C_OPS', requestId))).toEqual(['revoke']);
});

test('a redelivered command changes nothing the second time', async () => {
  const responseId = randomUUID();
  const body = slashCommandBody({
    text: 'web-2 rotate logs',
    userId: 'U_DANA',
    channelId: 'C_REQUESTS',
    responseUrl: fake.responseUrl(responseId),
    triggerId: '1736931600.42.retry',
  });
  const cardsBefore = fake.channelMessages('C_OPS').length;
  expect((await postSigned(flow.url, body)).status).toBe(200);
  expect((await postSigned(flow.url, body, { retryNum: 1 })).status).toBe(200);
  await settle();
  expect(idIn(onlyReply(responseId))).toMatch(/^JIT-/);
  expect(fake.channelMessages('C_OPS')).toHaveLength(cardsBefore + 1);
});

test('an admin maps a channel only once the bot is a member of it', async () => {
  expect(await jit('U_ADMIN', 'admin map-channel ops-approvers', 'C_NOT_INVITED')).toContain('Invite me first');
  expect(await jit('U_ALICE', 'admin map-channel ops-approvers', 'C_ONCALL')).toContain('Only admins');
  expect(await jit('U_ADMIN', 'admin map-channel ops-approvers', 'C_ONCALL')).toBe(
    'This channel now speaks for ops-approvers.',
  );
  expect(await jit('U_ADMIN', 'admin channels')).toContain('slack C_ONCALL → ops-approvers (runtime)');
  expect(await jit('U_ADMIN', 'admin unmap-channel', 'C_ONCALL')).toBe(
    'This channel no longer speaks for ops-approvers.',
  );
});

describe('Slack input that is not a plain /jit command (issue 9)', () => {
  test('another slash command is refused with a clear message and creates nothing', async () => {
    const before = await flow.store.listRecentRequests(100);
    const responseId = randomUUID();
    const body = slashCommandBody({
      text: 'web-1 fix nginx',
      userId: 'U_DANA',
      channelId: 'C_REQUESTS',
      responseUrl: fake.responseUrl(responseId),
      command: '/other',
    });
    expect((await postSigned(flow.url, body)).status).toBe(200);
    await settle();
    expect(onlyReply(responseId)).toBe('/other is not a jitbot command; use /jit, e.g. /jit help.');
    expect(await flow.store.listRecentRequests(100)).toEqual(before);
  });

  test('a slash command or a click sent as JSON is refused with 415 and creates nothing', async () => {
    const before = await flow.store.listRecentRequests(100);
    const command = JSON.stringify(
      Object.fromEntries(
        new URLSearchParams(
          slashCommandBody({
            text: 'web-1 fix nginx',
            userId: 'U_DANA',
            channelId: 'C_REQUESTS',
            responseUrl: fake.responseUrl(),
          }),
        ),
      ),
    );
    const asJson = await postSigned(flow.url, command, { contentType: 'application/json' });
    expect(asJson.status).toBe(415);
    expect(asJson.headers.get('x-slack-no-retry')).toBe('1');
    const clickJson = JSON.stringify(
      blockActionsPayload({
        userId: 'U_ALICE',
        channelId: 'C_OPS',
        messageTs: '1736931600.000101',
        action: 'approve',
        requestId: 'JIT-7K3Q2',
        responseUrl: fake.responseUrl(),
      }),
    );
    expect((await postSigned(flow.url, clickJson, { contentType: 'application/json' })).status).toBe(415);
    expect((await postSigned(flow.url, 'text=web-1', { contentType: 'text/plain' })).status).toBe(415);
    await settle();
    expect(await flow.store.listRecentRequests(100)).toEqual(before);
  });

  test.each([4_000, 10_000, 100_000])(
    'a %i-character command gets the same "keep it to 256" answer',
    async (length) => {
      const before = await flow.store.listRecentRequests(100);
      const reason = 'x'.repeat(length - 'web-1 '.length);
      expect(await jit('U_DANA', `web-1 ${reason}`)).toMatch(
        new RegExp(`^The reason is ${reason.length} characters; keep it to 256\\.\n`),
      );
      expect(await flow.store.listRecentRequests(100)).toEqual(before);
    },
  );
});

test('a named approver with a mixed-case Slack id revokes from the card', async () => {
  const requestId = idIn(await jit('U_DANA', 'i-0b0b0b0b0b0b0b0b1 rotate the certificates'));
  expect(await click('U_ALICE', cardFor('C_OPS', requestId), 'approve')).toContain(
    `Recorded your approval of ${requestId}`,
  );
  const active = cardFor('C_OPS', requestId);
  expect(buttons(active)).toEqual(['revoke']);

  expect(await click(NAMED_APPROVER, active, 'revoke')).toBe(
    `Revoking ${requestId}; live sessions on batch (i-0b0b0b0b0b0b0b0b1) will be ended.`,
  );
  const revoked = cardFor('C_OPS', requestId);
  expect(revoked.blocks![1].text.text).toMatch(/^⛔ Revoked by Kim Named at /);
  expect(buttons(revoked)).toEqual([]);
  expect(JSON.stringify(revoked.blocks)).not.toContain('Expires');
  expect(threadTexts(revoked).join('\n')).toContain(
    'Kim Named revoked access to batch (i-0b0b0b0b0b0b0b0b1); 0 live sessions terminated.',
  );
});
