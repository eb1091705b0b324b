import { dispatchEnvelope, feishuEventDispatcher } from '../../../adapters/feishu/dispatcher';
import {
  actionFromCallback,
  cardActionSchema,
  commandFromMessage,
  messageEventSchema,
  type TranslatedAction,
  type TranslatedCommand,
  type Untranslated,
} from '../../../adapters/feishu/payloads';
import { silentLogger } from '../../../src/http/middleware';
import { ALICE, BOT_MENTION, BOT_OPEN_ID, cardActionEnvelope, DANA, messageEnvelope } from './feishu-requests';

// Envelopes as Feishu sends them go through the SDK's own EventDispatcher (which flattens header and event, as
// both transports do) and then through the translation into neutral events.

async function flattened(envelope: object): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> | undefined;
  const dispatcher = feishuEventDispatcher(
    {
      message: async (data) => void (seen = data),
      cardAction: async (data) => {
        seen = data;
        return undefined;
      },
    },
    silentLogger,
  );
  await dispatchEnvelope(dispatcher, envelope as Record<string, unknown>);
  if (!seen) throw new Error('the dispatcher called no handler');
  return seen;
}

async function command(
  text: string,
  options: Parameters<typeof messageEnvelope>[1] = {},
): Promise<TranslatedCommand | Untranslated> {
  const envelope = messageEnvelope(text, options);
  return commandFromMessage(messageEventSchema.parse(await flattened(envelope)), BOT_OPEN_ID);
}

async function click(...args: Parameters<typeof cardActionEnvelope>): Promise<TranslatedAction | Untranslated> {
  return actionFromCallback(cardActionSchema.parse(await flattened(cardActionEnvelope(...args))), 'fallback');
}

const textOf = (result: TranslatedCommand | Untranslated) => ('event' in result ? result.event.text : result);

test('a group message mentioning the bot becomes a command from the sender (union_id), answered in reply to it', async () => {
  const result = await command('@_user_1 web-prod-1 fix nginx for 2h', {
    mentions: [BOT_MENTION],
    eventId: 'ev_1',
    messageId: 'om_1',
  });
  expect(result).toEqual({
    event: {
      kind: 'command',
      platform: 'feishu',
      deliveryId: 'ev_1',
      actor: { platform: 'feishu', userId: DANA.unionId, displayName: DANA.unionId },
      channel: { platform: 'feishu', channelId: 'oc_approvers' },
      text: 'web-prod-1 fix nginx for 2h',
    },
    replyTo: 'om_1',
  });
});

test('a leading /jit is optional, in groups and DMs alike', async () => {
  expect(textOf(await command('@_user_1 /jit web-prod-1 fix nginx for 2h', { mentions: [BOT_MENTION] }))).toBe(
    'web-prod-1 fix nginx for 2h',
  );
  expect(textOf(await command('/jit web-prod-1 fix nginx', { chatType: 'p2p' }))).toBe('web-prod-1 fix nginx');
  expect(textOf(await command('web-prod-1 fix nginx', { chatType: 'p2p' }))).toBe('web-prod-1 fix nginx');
  expect(textOf(await command('/jitter x', { chatType: 'p2p' }))).toBe('/jitter x');
});

test('other mentions and @all in the reason become plain text, never a mention', async () => {
  const result = await command('@_user_1 web-1 ask @_user_2 and @_all and @_user_10 <at user_id="all"></at>', {
    mentions: [
      BOT_MENTION,
      { key: '@_user_2', person: ALICE },
      { key: '@_user_10', person: { openId: 'ou_ten', name: 'Ten' } },
    ],
  });
  expect(textOf(result)).toBe('web-1 ask @Alice and @all and @Ten <at user_id="all"></at>');
});

test('the bot mentioned later in the text is removed wherever it is', async () => {
  expect(textOf(await command('web-1 fix nginx @_user_1', { mentions: [BOT_MENTION] }))).toBe('web-1 fix nginx');
});

test('ignored: group messages not mentioning the bot, bots, non-text messages, unreadable content', async () => {
  expect(await command('web-1 fix', {})).toEqual({ ignored: 'a group message that does not mention the bot' });
  expect(await command('@_user_1 web-1', { mentions: [{ key: '@_user_1', person: ALICE }] })).toEqual({
    ignored: 'a group message that does not mention the bot',
  });
  expect(await command('@_user_1 web-1', { mentions: [BOT_MENTION], senderType: 'app' })).toEqual({
    ignored: 'not sent by a person',
  });
  expect(await command('x', { chatType: 'p2p', messageType: 'image' })).toEqual({ ignored: 'a image message' });
  const broken = messageEnvelope('x', { chatType: 'p2p' });
  broken.event.message.content = 'not json';
  expect(commandFromMessage(messageEventSchema.parse(await flattened(broken)), BOT_OPEN_ID)).toEqual({
    ignored: 'unreadable message content',
  });
});

test('a click becomes an action by the operator, with the comment from form_value and the card it was on', async () => {
  const result = await click('approve', 'JIT-7K3Q2', {
    eventId: 'ev_c',
    callbackToken: 'c-tok',
    comment: '  looks fine ',
    messageId: 'om_card',
    chatId: 'oc_approvers',
  });
  expect(result).toEqual({
    event: {
      kind: 'action',
      platform: 'feishu',
      deliveryId: 'ev_c',
      actor: { platform: 'feishu', userId: ALICE.unionId, displayName: ALICE.unionId },
      channel: { platform: 'feishu', channelId: 'oc_approvers' },
      action: 'approve',
      requestId: 'JIT-7K3Q2',
      comment: 'looks fine',
      message: { platform: 'feishu', channelId: 'oc_approvers', messageId: 'om_card' },
    },
    callbackToken: 'c-tok',
  });
  // The SDK puts the event's token (the callback token) over the header's (the verification token).
  expect(result).toMatchObject({ callbackToken: 'c-tok' });
});

test('reject and revoke; an empty comment is no comment', async () => {
  expect(await click('reject', 'JIT-7K3Q2', { comment: '   ' })).toMatchObject({ event: { action: 'reject' } });
  expect(((await click('reject', 'JIT-7K3Q2', { comment: '   ' })) as TranslatedAction).event.comment).toBeUndefined();
  expect(await click('revoke', 'JIT-7K3Q2')).toMatchObject({ event: { action: 'revoke', requestId: 'JIT-7K3Q2' } });
});

test('buttons that are not jitbot verdicts are ignored', async () => {
  expect(await click('delete', 'JIT-7K3Q2')).toEqual({ ignored: 'not a jitbot button' });
  expect(await click('approve', 'JIT 7K3Q2; rm')).toEqual({ ignored: 'not a jitbot button' });
});
