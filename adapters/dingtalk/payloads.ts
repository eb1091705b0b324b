import { z } from 'zod';
import { isCardActionId } from '../../src/core/card';
import type { ChannelRef, MessageRef, UserRef } from '../../src/core/model';
import { normaliseRequestId } from '../../src/core/request-id';
import type { ActionEvent, CommandEvent } from '../../src/ports/chat';
import type { InboundLogger, Translation } from '../shared/inbound-dispatcher';

// What DingTalk sends, as far as jitbot reads it, and its translation into neutral events. Pure functions.
//
// Identity is the org (corpId) plus the person's userid there (senderStaffId / the callback's userId); never the
// robot message's senderId, which is encrypted per robot. jitbot serves one org: anyone from another (an external
// contact in a shared group) is refused. Results are the shared inbound dispatcher's translations. Channels: a group is its openConversationId; a person's one-to-one chat
// with the robot is `dm:<userid>` (robot DMs are addressed by userid, not by conversation).

const id = z.string().min(1).max(255);

export const robotMessageSchema = z.object({
  msgId: id,
  msgtype: z.string().max(64),
  conversationId: id,
  /** '1' one-to-one with the robot, '2' a group. */
  conversationType: z.enum(['1', '2']),
  senderStaffId: z.string().max(255).optional(),
  senderNick: z.string().max(255).optional(),
  senderCorpId: z.string().max(255).optional(),
  chatbotCorpId: z.string().max(255).optional(),
  text: z.object({ content: z.string().max(8000) }).optional(),
});
export type RobotMessage = z.infer<typeof robotMessageSchema>;

export const cardCallbackSchema = z.object({
  outTrackId: id,
  corpId: z.string().max(255).optional(),
  userId: id,
  /** 1: userId is the userid (the default); 2: it is a unionId. */
  userIdType: z.union([z.number(), z.string()]).optional(),
  content: z.string().max(64_000),
});
export type CardCallback = z.infer<typeof cardCallbackSchema>;

const callbackContentSchema = z.object({
  cardPrivateData: z.object({
    actionIds: z.array(z.string()).optional(),
    params: z.record(z.string(), z.unknown()).default({}),
  }),
});

export type Conversation = { kind: 'group'; openConversationId: string } | { kind: 'direct'; userId: string };

export interface TranslateContext {
  /** The org jitbot serves; when set, senders from other orgs are refused. */
  corpId?: string;
  /** The robot's name as people @-mention it (stripped if DingTalk left the mention in the text). */
  robotName?: string;
  /** Where a suspicious delivery (a click whose two request ids differ) is reported. */
  logger?: Pick<InboundLogger, 'warn'>;
}

const DIRECT_PREFIX = 'dm:';
const DECISION_WORDS: Record<string, 'approve' | 'reject'> = {
  approve: 'approve',
  reject: 'reject',
  同意: 'approve',
  批准: 'approve',
  拒绝: 'reject',
  驳回: 'reject',
};

export function channelOf(conversation: Conversation): ChannelRef {
  return {
    platform: 'dingtalk',
    channelId:
      conversation.kind === 'group' ? conversation.openConversationId : `${DIRECT_PREFIX}${conversation.userId}`,
  };
}

export function conversationOf(channelId: string): Conversation {
  return channelId.startsWith(DIRECT_PREFIX)
    ? { kind: 'direct', userId: channelId.slice(DIRECT_PREFIX.length) }
    : { kind: 'group', openConversationId: channelId };
}

/**
 * The card's outTrackId: the request id, then the channel it was posted in (base64url). One request has a card in
 * each channel that decides it, and DingTalk needs one id per card instance; the same pair always gives the same
 * id, so a retried post cannot create a second card, and a click tells which channel it came from.
 */
export function outTrackIdFor(requestId: string, channelId: string): string {
  return `${requestId}.${Buffer.from(channelId, 'utf8').toString('base64url')}`;
}

export function parseOutTrackId(outTrackId: string): { requestId: string; channelId: string } | undefined {
  const dot = outTrackId.indexOf('.');
  if (dot < 0) return undefined;
  const requestId = normaliseRequestId(outTrackId.slice(0, dot));
  const channelId = Buffer.from(outTrackId.slice(dot + 1), 'base64url').toString('utf8');
  if (!requestId || channelId === '') return undefined;
  return { requestId, channelId };
}

/** A robot message (@jitbot in a group, or a DM to the robot) as a command, or a typed decision (degraded mode). */
export function translateRobotMessage(message: RobotMessage, ctx: TranslateContext): Translation {
  if (message.msgtype !== 'text' || !message.text) return { kind: 'ignore', why: `a ${message.msgtype} message` };
  const userId = message.senderStaffId?.trim();
  // Without a userid (an external contact) there is nobody jitbot could name, look up or DM.
  if (!userId) return { kind: 'ignore', why: 'no userid (an external contact?)' };
  const actor: UserRef = { platform: 'dingtalk', userId, displayName: message.senderNick?.trim() || userId };
  const conversation: Conversation =
    message.conversationType === '2'
      ? { kind: 'group', openConversationId: message.conversationId }
      : { kind: 'direct', userId };
  const base = {
    platform: 'dingtalk' as const,
    deliveryId: `msg:${message.msgId}`,
    actor,
    channel: channelOf(conversation),
  };
  const text = commandText(message.text.content, ctx.robotName);
  const command: CommandEvent = { kind: 'command', ...base, text };

  const corp = message.senderCorpId ?? message.chatbotCorpId;
  if (ctx.corpId && corp !== ctx.corpId) return { kind: 'refuse', event: command, key: 'inbound.other_organisation' };
  const decision = typedDecision(text);
  if (decision === 'malformed')
    return { kind: 'refuse', event: command, key: 'inbound.decide_usage', params: { example: 'JIT-XXXXX' } };
  if (decision) {
    const action: ActionEvent = {
      kind: 'action',
      ...base,
      action: decision.action,
      requestId: decision.requestId,
      ...(decision.comment && { comment: decision.comment }),
    };
    return { kind: 'event', event: action };
  }
  return { kind: 'event', event: command };
}

/** A click on jitbot's card: the verdict and request id from the button's parameters, the comment from the input. */
export function translateCardCallback(callback: CardCallback, deliveryId: string, ctx: TranslateContext): Translation {
  let content: z.infer<typeof callbackContentSchema>;
  try {
    content = callbackContentSchema.parse(JSON.parse(callback.content));
  } catch {
    return { kind: 'ignore', why: 'unreadable card callback content' };
  }
  const params = content.cardPrivateData.params;
  const action = params.action;
  if (typeof action !== 'string' || !isCardActionId(action)) return { kind: 'ignore', why: 'not a jitbot button' };
  const card = parseOutTrackId(callback.outTrackId);
  if (!card) return { kind: 'ignore', why: 'not a jitbot card' };
  // The button's requestId and the card's own (in outTrackId) must agree: a click that names another request than
  // the card it came from is not taken as a decision on either.
  const named = typeof params.requestId === 'string' && params.requestId.trim() !== '' ? params.requestId : undefined;
  if (named !== undefined && normaliseRequestId(named) !== card.requestId) {
    ctx.logger?.warn(
      { platform: 'dingtalk', deliveryId, cardRequestId: card.requestId, buttonRequestId: named.slice(0, 40) },
      'card click ignored: its request id differs from the card it came from',
    );
    return { kind: 'ignore', why: 'the click names another request than its card' };
  }
  const requestId = card.requestId;
  // A unionId is not the org's userid: jitbot would misname the clicker, so it does not guess.
  if (String(callback.userIdType ?? '1') !== '1')
    return { kind: 'ignore', why: 'callback identifies the user by unionId' };

  const comment = typedComment(params);
  const message: MessageRef = { platform: 'dingtalk', channelId: card.channelId, messageId: callback.outTrackId };
  const event: ActionEvent = {
    kind: 'action',
    platform: 'dingtalk',
    deliveryId,
    actor: { platform: 'dingtalk', userId: callback.userId, displayName: callback.userId },
    channel: { platform: 'dingtalk', channelId: card.channelId },
    action,
    requestId,
    ...(comment && { comment }),
    message,
  };
  if (ctx.corpId && callback.corpId !== ctx.corpId) return { kind: 'refuse', event, key: 'inbound.other_organisation' };
  return { kind: 'event', event };
}

/**
 * What follows the @-mention. DingTalk removes the robot's mention from `text.content` (leaving a leading space);
 * if it is still there, it is removed here. A leading "/jit" is accepted too. Other mentions stay in the text
 * as typed: they are only characters (renderers escape them).
 */
export function commandText(content: string, robotName?: string): string {
  let text = content.trim();
  if (robotName) {
    const mention = `@${robotName}`;
    if (text.startsWith(mention) && (text.length === mention.length || /\s/.test(text.charAt(mention.length))))
      text = text.slice(mention.length).trim();
  }
  return text.replace(/^\/jit(?:\s+|$)/i, '').trim();
}

type TypedDecision = { action: 'approve' | 'reject'; requestId: string; comment?: string };

/** `approve JIT-7K3Q2 looks fine` (or 同意/批准/拒绝/驳回): the degraded mode's way to decide. */
function typedDecision(text: string): TypedDecision | 'malformed' | undefined {
  const match = /^(\S+)(?:\s+(\S+))?(?:\s+([\s\S]*))?$/u.exec(text);
  const action = match ? DECISION_WORDS[match[1]!.normalize('NFKC').toLowerCase()] : undefined;
  if (!match || !action) return undefined;
  const requestId = match[2] ? normaliseRequestId(match[2]) : undefined;
  if (!requestId) return 'malformed';
  const comment = match[3]?.trim();
  return { action, requestId, ...(comment && { comment }) };
}

function typedComment(params: Record<string, unknown>): string | undefined {
  const form = params.form as Record<string, unknown> | undefined;
  const value =
    typeof params.comment === 'string' ? params.comment : typeof form?.comment === 'string' ? form.comment : undefined;
  const comment = value?.trim();
  return comment ? comment : undefined;
}
