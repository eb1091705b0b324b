import {
  cardCallbackSchema,
  commandText,
  conversationOf,
  outTrackIdFor,
  parseOutTrackId,
  robotMessageSchema,
  translateCardCallback,
  translateRobotMessage,
  type TranslateContext,
} from '../../../adapters/dingtalk/payloads';
import { FAKE_CORP_ID } from '../../support/fake-dingtalk';
import { cardCallback, robotMessage, type CardClickInput, type RobotMessageInput } from './dingtalk-payloads';

const ctx: TranslateContext = { corpId: FAKE_CORP_ID, robotName: 'jitbot' };
const translateMessage = (input: RobotMessageInput, context = ctx) =>
  translateRobotMessage(robotMessageSchema.parse(robotMessage(input)), context);
const translateClick = (input: CardClickInput, context = ctx) =>
  translateCardCallback(cardCallbackSchema.parse(cardCallback(input)), 'card:m1', context);

test('@jitbot in a group: a command from corp userid, in the group, the mention gone, delivery id from msgId', () => {
  const result = translateMessage({
    text: 'web-prod-1 fix nginx for 2h',
    group: 'cidOps+/=',
    userId: 'manager4521',
    nick: '张三',
    msgId: 'msgA1',
  });
  expect(result).toEqual({
    kind: 'event',
    event: {
      kind: 'command',
      platform: 'dingtalk',
      deliveryId: 'msg:msgA1',
      actor: { platform: 'dingtalk', userId: 'manager4521', displayName: '张三' },
      channel: { platform: 'dingtalk', channelId: 'cidOps+/=' },
      text: 'web-prod-1 fix nginx for 2h',
    },
  });
});

test("a DM to the robot is a command in the person's dm: channel; the encrypted senderId is never used", () => {
  const result = translateMessage({ text: 'list', userId: 'ops7' });
  expect(result).toMatchObject({
    kind: 'event',
    event: { kind: 'command', channel: { channelId: 'dm:ops7' }, actor: { userId: 'ops7' }, text: 'list' },
  });
  expect(JSON.stringify(result)).not.toContain('LWCP');
  expect(conversationOf('dm:ops7')).toEqual({ kind: 'direct', userId: 'ops7' });
  expect(conversationOf('cidOps')).toEqual({ kind: 'group', openConversationId: 'cidOps' });
});

test('mentions inside the reason stay in the text as typed; a leftover robot mention or /jit is stripped', () => {
  expect(commandText(' web-1 ping @Alice and @all please ')).toBe('web-1 ping @Alice and @all please');
  expect(commandText('@jitbot web-1 fix', 'jitbot')).toBe('web-1 fix');
  expect(commandText('@jitbotx web-1 fix', 'jitbot')).toBe('@jitbotx web-1 fix');
  expect(commandText(' /jit status JIT-7K3Q2')).toBe('status JIT-7K3Q2');
});

test('degraded mode: "approve JIT-… comment" typed to the robot is a decision; Chinese verbs and sloppy ids work', () => {
  expect(translateMessage({ text: 'approve jit-7k3q2 looks fine @Bob', group: 'cidOps' })).toMatchObject({
    kind: 'event',
    event: {
      kind: 'action',
      action: 'approve',
      requestId: 'JIT-7K3Q2',
      comment: 'looks fine @Bob',
      channel: { channelId: 'cidOps' },
    },
  });
  expect(translateMessage({ text: '拒绝 7K3Q2', group: 'cidOps' })).toMatchObject({
    event: { kind: 'action', action: 'reject', requestId: 'JIT-7K3Q2' },
  });
  const noComment = translateMessage({ text: 'Reject JIT-7K3Q2', group: 'cidOps' });
  expect(noComment.kind === 'event' && noComment.event).not.toHaveProperty('comment');
  expect(translateMessage({ text: 'approve soon', group: 'cidOps' })).toMatchObject({
    kind: 'refuse',
    key: 'inbound.decide_usage',
    params: { example: 'JIT-XXXXX' },
    event: { kind: 'command', actor: { userId: 'manager4521' } },
  });
});

test('senders from another org are refused (told so by DM); without a userid there is nobody to answer', () => {
  expect(translateMessage({ text: 'web-1 x', corpId: 'dingOTHER' })).toMatchObject({
    kind: 'refuse',
    key: 'inbound.other_organisation',
    event: { actor: { userId: 'manager4521' } },
  });
  expect(translateMessage({ text: 'web-1 x', corpId: 'dingOTHER' }, { robotName: 'jitbot' })).toMatchObject({
    kind: 'event',
  });
  const external = robotMessageSchema.parse({ ...robotMessage({ text: 'web-1 x' }), senderStaffId: undefined });
  expect(translateRobotMessage(external, ctx)).toMatchObject({
    kind: 'ignore',
    why: expect.stringContaining('userid'),
  });
});

test('pictures and other message types are ignored', () => {
  const picture = robotMessageSchema.parse({ ...robotMessage({ text: '' }), msgtype: 'picture', text: undefined });
  expect(translateRobotMessage(picture, ctx)).toMatchObject({ kind: 'ignore' });
});

test('a card click: verdict and request id from the button parameters, the comment from the input, channel from the card', () => {
  const result = translateClick({
    requestId: 'JIT-7K3Q2',
    channelId: 'cidOps+/=',
    action: 'reject',
    userId: 'ops7',
    comment: '  not now  ',
  });
  expect(result).toEqual({
    kind: 'event',
    event: {
      kind: 'action',
      platform: 'dingtalk',
      deliveryId: 'card:m1',
      actor: { platform: 'dingtalk', userId: 'ops7', displayName: 'ops7' },
      channel: { platform: 'dingtalk', channelId: 'cidOps+/=' },
      action: 'reject',
      requestId: 'JIT-7K3Q2',
      comment: 'not now',
      message: { platform: 'dingtalk', channelId: 'cidOps+/=', messageId: outTrackIdFor('JIT-7K3Q2', 'cidOps+/=') },
    },
  });
  expect(
    translateClick({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve', comment: 'ok', asForm: true }),
  ).toMatchObject({ event: { comment: 'ok' } });
  const blank = translateClick({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve', comment: '   ' });
  expect(blank.kind === 'event' && blank.event).not.toHaveProperty('comment');
});

test("clicks that are not jitbot's, from another org, or identified by unionId are not taken as decisions", () => {
  expect(translateClick({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'delete' })).toMatchObject({
    kind: 'ignore',
  });
  expect(
    translateClick({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve', corpId: 'dingOTHER' }),
  ).toMatchObject({
    kind: 'refuse',
    key: 'inbound.other_organisation',
  });
  const byUnion = cardCallbackSchema.parse({
    ...cardCallback({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve' }),
    userIdType: 2,
  });
  expect(translateCardCallback(byUnion, 'card:m2', ctx)).toMatchObject({ kind: 'ignore' });
  const foreign = cardCallbackSchema.parse({
    ...cardCallback({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve' }),
    outTrackId: 'someone-elses-card',
  });
  expect(translateCardCallback(foreign, 'card:m3', ctx)).toMatchObject({ kind: 'ignore' });
  const garbled = cardCallbackSchema.parse({
    ...cardCallback({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve' }),
    content: '{not json',
  });
  expect(translateCardCallback(garbled, 'card:m4', ctx)).toMatchObject({ kind: 'ignore' });
});

test('a click whose button names another request than its card is ignored (no decision) and logged at warn', () => {
  const warned: { obj: object; msg: string }[] = [];
  const logger = { warn: (obj: object, msg: string) => void warned.push({ obj, msg }) };
  const mismatched = cardCallbackSchema.parse({
    ...cardCallback({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve' }),
    content: JSON.stringify({
      cardPrivateData: { actionIds: ['approve'], params: { action: 'approve', requestId: 'JIT-9ZZZZ' } },
    }),
  });
  expect(translateCardCallback(mismatched, 'card:m5', { ...ctx, logger })).toMatchObject({ kind: 'ignore' });
  expect(warned).toEqual([
    {
      obj: { platform: 'dingtalk', deliveryId: 'card:m5', cardRequestId: 'JIT-7K3Q2', buttonRequestId: 'JIT-9ZZZZ' },
      msg: 'card click ignored: its request id differs from the card it came from',
    },
  ]);
  // The same id written differently (lower case) is the same request; no id on the button uses the card's.
  expect(
    translateClick({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve' }, { ...ctx, logger }),
  ).toMatchObject({ kind: 'event', event: { requestId: 'JIT-7K3Q2' } });
  const lower = cardCallbackSchema.parse({
    ...cardCallback({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'approve' }),
    content: JSON.stringify({
      cardPrivateData: { actionIds: ['approve'], params: { action: 'approve', requestId: 'jit-7k3q2' } },
    }),
  });
  expect(translateCardCallback(lower, 'card:m6', ctx)).toMatchObject({
    kind: 'event',
    event: { requestId: 'JIT-7K3Q2' },
  });
  const noId = cardCallbackSchema.parse({
    ...cardCallback({ requestId: 'JIT-7K3Q2', channelId: 'cidOps', action: 'reject' }),
    content: JSON.stringify({ cardPrivateData: { actionIds: ['reject'], params: { action: 'reject' } } }),
  });
  expect(translateCardCallback(noId, 'card:m7', ctx)).toMatchObject({
    kind: 'event',
    event: { requestId: 'JIT-7K3Q2' },
  });
  expect(warned).toHaveLength(1);
});

test('outTrackId: one per request and channel, stable, and read back', () => {
  const a = outTrackIdFor('JIT-7K3Q2', 'cidOps+/=');
  expect(a).toBe(outTrackIdFor('JIT-7K3Q2', 'cidOps+/='));
  expect(a).not.toBe(outTrackIdFor('JIT-7K3Q2', 'cidOther'));
  expect(a.startsWith('JIT-7K3Q2.')).toBe(true);
  expect(a).toMatch(/^[A-Za-z0-9._-]+$/);
  expect(parseOutTrackId(a)).toEqual({ requestId: 'JIT-7K3Q2', channelId: 'cidOps+/=' });
  expect(parseOutTrackId('nothing')).toBeUndefined();
});
