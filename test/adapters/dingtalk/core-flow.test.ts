import { randomUUID } from 'node:crypto';
import { DingTalkAdapter } from '../../../adapters/dingtalk/dingtalk-adapter';
import { outTrackIdFor } from '../../../adapters/dingtalk/payloads';
import { TOPIC_CARD_CALLBACK, TOPIC_ROBOT_MESSAGE } from '../../../adapters/dingtalk/stream-client';
import { adapterOptionsFor, FakeDingTalk, type FakeCard, type StreamAck } from '../../support/fake-dingtalk';
import { startCoreFlow, type CoreFlow } from '../../support/core-flow';
import { testConfig } from '../../support/harness';
import { cardCallback, robotMessage, visibleText } from './dingtalk-payloads';

// The DingTalk adapter in Stream mode in front of the real core (assemble, in-memory store, dry-run grants),
// driven with Stream frames as DingTalk sends them; the fake shows the cards and messages people would see.

const OPS = 'cidOps+group==';
const SEC = 'cidSecurity==';
const REQUESTS = 'cidRequests==';
const RACERS = Array.from({ length: 20 }, (_, i) => `racer${i + 1}`);

let fake: FakeDingTalk;
let adapter: DingTalkAdapter;
let flow: CoreFlow;

beforeAll(async () => {
  fake = await FakeDingTalk.start({
    users: [
      { userid: 'manager4521', name: '张三', email: 'zhang@example.cn' },
      { userid: 'ops7', name: 'Li Si', orgEmail: 'lisi@example.cn' },
      { userid: 'sec1', name: 'Wang Wu' },
      { userid: 'outsider', name: 'Zhao Liu' },
      ...RACERS.map((userid) => ({ userid, name: `Approver ${userid}` })),
    ],
  });
  const config = testConfig((c) => {
    c.roles['ops-approvers']!.channels.dingtalk = OPS;
    c.roles['ops-approvers']!.members.push('dingtalk:ops7', ...RACERS.map((id) => `dingtalk:${id}`));
    c.roles['security-leads']!.channels.dingtalk = SEC;
    c.roles['security-leads']!.members.push('dingtalk:sec1');
    c.identities.push({
      match: { platform: 'dingtalk', userId: 'manager4521' },
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/zhang' },
      groups: ['developers'],
    });
  });
  adapter = new DingTalkAdapter(
    adapterOptionsFor(fake, { cardTemplateId: 'jitbot-approval.schema', clickDeadlineMs: 10_000 }),
  );
  flow = await startCoreFlow({ config, adapter, owner: 'dingtalk-e2e' });
});

afterAll(async () => {
  await flow.stop();
  await fake.close();
});

const settle = () => flow.settle();

/** `@jitbot <text>` in a group (or a DM); resolves with the DM the person got back. */
async function ask(
  userId: string,
  text: string,
  group: string | undefined = REQUESTS,
  msgId?: string,
): Promise<string> {
  const before = dmsTo(userId).length;
  const ack = await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text, userId, group, ...(msgId && { msgId }) }),
  );
  expect(ack.code).toBe(200);
  await settle();
  const dms = dmsTo(userId);
  expect(dms.length).toBe(before + 1);
  return dms.at(-1)!;
}

/** Clicks a button on the card in `channel`; resolves with the private note in the ack. */
async function click(
  userId: string,
  channel: string,
  requestId: string,
  action: string,
  comment?: string,
  messageId?: string,
): Promise<string> {
  const ack = await fake.sendCallback(
    TOPIC_CARD_CALLBACK,
    cardCallback({ requestId, channelId: channel, action, userId, ...(comment !== undefined && { comment }) }),
    {
      ...(messageId && { messageId }),
    },
  );
  await settle();
  return noteIn(ack);
}

function noteIn(ack: StreamAck): string {
  expect(ack.data.response.cardUpdateOptions).toEqual({ updateCardDataByKey: true, updatePrivateDataByKey: true });
  return visibleText(ack.data.response.userPrivateData.cardParamMap.note as string);
}

function dmsTo(userId: string): string[] {
  return fake.messages
    .filter((m) => m.kind === 'direct' && (m.to as string[]).includes(userId))
    .map((m) => m.msgParam.content ?? m.msgParam.text);
}

function groupPosts(channel: string): string[] {
  return fake.messages
    .filter((m) => m.kind === 'group' && m.to === channel)
    .map((m) => visibleText(m.msgParam.text ?? m.msgParam.content));
}

function card(channel: string, requestId: string): FakeCard {
  const found = fake.cards.get(outTrackIdFor(requestId, channel));
  if (!found) throw new Error(`no card for ${requestId} in ${channel}`);
  return found;
}

const buttons = (c: FakeCard) =>
  (['approve', 'reject', 'revoke'] as const).filter(
    (a) => c.cardParamMap[`can${a[0]!.toUpperCase()}${a.slice(1)}`] === 'true',
  );
const visible = visibleText;

function idIn(text: string): string {
  const match = /JIT-[0-9A-Z]{5}/.exec(text);
  if (!match) throw new Error(`no request id in: ${text}`);
  return match[0];
}

test('two levels in two groups: @jitbot request, approve with comments by card clicks, then the grant', async () => {
  const submitted = await ask('manager4521', 'web-1 fix nginx for 2h');
  expect(submitted).toContain('waiting for Level 1 of 2');
  const requestId = idIn(submitted);
  // The answer went by DM only: nothing public in the requests group.
  expect(groupPosts(REQUESTS)).toEqual([]);

  const opsCard = card(OPS, requestId);
  expect(opsCard).toMatchObject({
    cardTemplateId: 'jitbot-approval.schema',
    openSpaceId: `dtv1.card//IM_GROUP.${OPS}`,
    callbackType: 'STREAM',
  });
  expect(visible(opsCard.cardParamMap.markdown!)).toContain('web-1 (i-0123456789abcdef0)');
  expect(visible(opsCard.cardParamMap.markdown!)).toContain('张三');
  expect(buttons(opsCard)).toEqual(['approve', 'reject']);
  expect([...fake.cards.keys()].filter((k) => k.startsWith(requestId))).toHaveLength(1);

  // sec1 is Level 2's approver: not yet, and not from the Level 1 group.
  expect(await click('sec1', OPS, requestId, 'approve')).toMatch(/not an approver|does not speak/);

  expect(await click('ops7', OPS, requestId, 'approve', 'checked the change ticket')).toContain(
    `Recorded your approval of ${requestId}`,
  );
  const securityCard = card(SEC, requestId);
  expect(visible(securityCard.cardParamMap.markdown!)).toContain('Level 2 of 2');
  expect(card(OPS, requestId).cardParamMap.statusText).toContain('Waiting for Level 2 of 2');
  expect(buttons(card(OPS, requestId))).toEqual([]);
  expect(buttons(securityCard)).toEqual(['approve', 'reject']);
  // No threads: the decision is a group message quoting the request id.
  expect(groupPosts(OPS).join('\n')).toContain(requestId);
  expect(groupPosts(OPS).join('\n')).toContain('checked the change ticket');

  expect(await click('sec1', SEC, requestId, 'approve', 'ok for 2h')).toContain(
    `Recorded your approval of ${requestId}`,
  );
  const finalCard = card(SEC, requestId);
  expect(finalCard.cardParamMap.statusText).toMatch(/Access active until/);
  expect(buttons(finalCard)).toEqual(['revoke']);
  expect(finalCard.cardParamMap.showComment).toBe('false');
  expect(groupPosts(SEC).join('\n')).toContain('aws ssm start-session --target i-0123456789abcdef0');
  expect(dmsTo('manager4521').join('\n')).toContain(`Your request ${requestId}`);
});

test('reject with a comment: the card loses its buttons and shows the comment; a second click is refused privately', async () => {
  const grantsBefore = flow.granter.granted;
  const requestId = idIn(await ask('manager4521', 'i-0b0b0b0b0b0b0b0b1 rerun the batch'));
  const putsBefore = fake.callsTo('/v1.0/card/instances').length;
  const ack = await fake.sendCallback(
    TOPIC_CARD_CALLBACK,
    cardCallback({ requestId, channelId: OPS, action: 'reject', userId: 'ops7', comment: 'use the scheduler instead' }),
  );
  await settle();
  expect(noteIn(ack)).toContain(`Recorded your rejection of ${requestId}`);
  // The ack itself redraws the card for everyone; the outbox's redraw of the same version is then skipped.
  expect(ack.data.response.cardData.cardParamMap).toMatchObject({
    status: 'rejected',
    canApprove: 'false',
    canReject: 'false',
  });
  expect(fake.callsTo('/v1.0/card/instances').length).toBe(putsBefore);
  const rejected = card(OPS, requestId);
  expect(buttons(rejected)).toEqual([]);
  expect(rejected.cardParamMap.showComment).toBe('false');
  expect(visible(rejected.cardParamMap.markdown!)).toContain('use the scheduler instead');
  expect(rejected.cardParamMap.statusText).toContain('Rejected by Li Si');

  expect(await click('ops7', OPS, requestId, 'reject')).toContain(`${requestId} was already rejected by Li Si`);
  expect(await click('racer1', OPS, requestId, 'approve')).toContain(`${requestId} was already rejected`);
  expect(flow.granter.granted).toBe(grantsBefore);
});

test('twenty approvers click at once: one grant, nineteen private refusals', async () => {
  const requestId = idIn(await ask('manager4521', 'i-0b0b0b0b0b0b0b0b1 investigate the disk'));
  const before = flow.granter.granted;
  const acks = await Promise.all(
    RACERS.map((userId) =>
      fake.sendCallback(TOPIC_CARD_CALLBACK, cardCallback({ requestId, channelId: OPS, action: 'approve', userId })),
    ),
  );
  await settle();
  const notes = acks.map(noteIn);
  expect(notes.filter((text) => text.startsWith(`Recorded your approval of ${requestId}`))).toHaveLength(1);
  expect(notes.filter((text) => text.includes(`${requestId} was already approved by`))).toHaveLength(19);
  expect(flow.granter.granted - before).toBe(1);
  expect(buttons(card(OPS, requestId))).toEqual(['revoke']);
});

test('a redelivered robot message (same msgId) and a redelivered click (same Stream messageId) change nothing the second time', async () => {
  const msgId = `msg${randomUUID()}`;
  const cardsBefore = fake.cards.size;
  const dmsBefore = dmsTo('manager4521').length;
  const requestId = idIn(await ask('manager4521', 'i-0b0b0b0b0b0b0b0b1 rotate logs', REQUESTS, msgId));
  const ack = await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: 'i-0b0b0b0b0b0b0b0b1 rotate logs', userId: 'manager4521', group: REQUESTS, msgId }),
  );
  expect(ack.code).toBe(200);
  await settle();
  expect(fake.cards.size).toBe(cardsBefore + 1);
  expect(dmsTo('manager4521')).toHaveLength(dmsBefore + 1);

  const messageId = randomUUID();
  const grantsBefore = flow.granter.granted;
  expect(await click('ops7', OPS, requestId, 'approve', undefined, messageId)).toContain('Recorded your approval');
  const postsBefore = groupPosts(OPS).length;
  const again = await click('ops7', OPS, requestId, 'approve', undefined, messageId);
  // The core recognises the delivery id: no second decision, and nothing new to say.
  expect(again).toBe('');
  expect(flow.granter.granted - grantsBefore).toBe(1);
  expect(groupPosts(OPS)).toHaveLength(postsBefore);
});

test('a DM to the robot works like a group request; the answer comes back by DM', async () => {
  const reply = await ask('manager4521', 'list', undefined);
  expect(reply).toMatch(/JIT-|no requests|request/i);
});

test('a hostile reason reaches the card as inert text', async () => {
  const reason = '@all <script>alert(1)</script> [x](https://evil.example) **bold** ' + '紧急'.repeat(20);
  const requestId = idIn(await ask('manager4521', `web-1 ${reason}`));
  const markdown = card(OPS, requestId).cardParamMap.markdown!;
  expect(markdown).not.toContain('<');
  expect(markdown).not.toContain('[x]');
  expect(markdown).not.toMatch(/@(?!\u2060)/);
  expect(visible(markdown)).toContain(reason);
});

test('someone from another org is refused by DM and nothing is created', async () => {
  const cardsBefore = fake.cards.size;
  await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: 'web-1 let me in', userId: 'outsider', corpId: 'dingOTHER', group: REQUESTS }),
  );
  await settle();
  expect(dmsTo('outsider').at(-1)).toContain('organisation only');
  expect(fake.cards.size).toBe(cardsBefore);
});

test('resolveUser gives the name and the email (personal, else enterprise)', async () => {
  expect(await adapter.resolveUser({ platform: 'dingtalk', userId: 'ops7', displayName: 'x' })).toEqual({
    userId: 'ops7',
    displayName: 'Li Si',
    email: 'lisi@example.cn',
  });
});
