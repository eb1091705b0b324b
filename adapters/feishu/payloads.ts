import { z } from 'zod';
import type { MessageRef } from '../../src/core/model';
import type { ActionEvent, CommandEvent } from '../../src/ports/chat';
import { CARD_NAMES } from './card-json';

// What Feishu sends, as far as jitbot reads it, and its translation into neutral events. Pure functions.
// Input is the SDK EventDispatcher's flattened form (header and event fields side by side), which both transports
// produce: the long connection hands the envelope to the dispatcher, and so does the HTTP route once verified.
// People are identified by union_id: open_id differs per app, union_id is the same across the tenant's apps.

const id = z.string().min(1).max(255);

const userIds = z.object({ open_id: id.optional(), union_id: id.optional(), user_id: id.optional() });

const mentionSchema = z.object({
  key: z.string().max(64),
  id: userIds.optional(),
  name: z.string().max(255).optional(),
});

export const messageEventSchema = z.object({
  event_id: id,
  sender: z.object({ sender_id: userIds, sender_type: z.string().max(64).optional() }),
  message: z.object({
    message_id: id,
    chat_id: id,
    chat_type: z.string().max(32),
    message_type: z.string().max(64),
    content: z.string().max(150_000),
    mentions: z.array(mentionSchema).max(100).optional(),
  }),
});
export type MessageEvent = z.infer<typeof messageEventSchema>;

export const cardActionSchema = z.object({
  event_id: id.optional(),
  /**
   * The card callback's token (delayed-update credential); the same click redelivered repeats it. Only ever the
   * event's own: the dispatcher drops the header's Verification Token before flattening (dispatcher.ts).
   */
  token: id.optional(),
  operator: userIds,
  action: z.object({
    value: z.union([z.record(z.string(), z.unknown()), z.string().max(2000)]).optional(),
    name: z.string().max(255).optional(),
    tag: z.string().max(64).optional(),
    form_value: z.record(z.string(), z.unknown()).optional(),
  }),
  context: z.object({ open_message_id: id.optional(), open_chat_id: id.optional() }).optional(),
  open_message_id: id.optional(),
  open_chat_id: id.optional(),
});
export type CardActionCallback = z.infer<typeof cardActionSchema>;

/** A translated message: the neutral event, and the message to answer in reply to. */
export interface TranslatedCommand {
  event: CommandEvent;
  replyTo: string;
}

export interface TranslatedAction {
  event: ActionEvent;
  /** The card callback's token, for de-duplication alongside the event id. */
  callbackToken?: string;
}

export type Untranslated = { ignored: string };

const REQUEST_ID = /^[\w-]{1,64}$/;
const CARD_ACTIONS = ['approve', 'reject', 'revoke'] as const;
type CardActionName = (typeof CARD_ACTIONS)[number];
/** Longest command text read; longer texts are cut (the core refuses over-long reasons with a message). */
const MAX_COMMAND_TEXT = 4000;

/**
 * A text message to the bot: in a group it must @mention the bot (Feishu only delivers those unless the app may
 * read every message); in a DM to the bot any text counts. The bot's own mention is removed, so is a leading
 * `/jit`; any other mention, `@all` included, becomes plain text ("@Name"), never a mention.
 */
export function commandFromMessage(
  message: MessageEvent,
  botOpenId: string | undefined,
): TranslatedCommand | Untranslated {
  const { sender, message: m } = message;
  if (sender.sender_type !== undefined && sender.sender_type !== 'user') return { ignored: 'not sent by a person' };
  if (m.message_type !== 'text') return { ignored: `a ${m.message_type} message` };
  const unionId = sender.sender_id.union_id;
  if (!unionId) return { ignored: 'the sender has no union_id' };
  const raw = textContent(m.content);
  if (raw === undefined) return { ignored: 'unreadable message content' };

  const mentions = m.mentions ?? [];
  const isBot = (mention: (typeof mentions)[number]) => botOpenId !== undefined && mention.id?.open_id === botOpenId;
  const botKeys = new Set(mentions.filter(isBot).map((mention) => mention.key));
  if (m.chat_type !== 'p2p' && botKeys.size === 0) return { ignored: 'a group message that does not mention the bot' };

  let text = raw;
  // Longest keys first, so "@_user_1" never eats the start of "@_user_10".
  for (const mention of [...mentions].sort((a, b) => b.key.length - a.key.length)) {
    if (!mention.key) continue;
    const replacement = botKeys.has(mention.key) ? ' ' : `@${mention.name ?? 'someone'}`;
    text = text.split(mention.key).join(replacement);
  }
  text = text.replace(/@_all\b/g, '@all');
  text = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\/jit(?=\s|$)/i, '')
    .trim()
    .slice(0, MAX_COMMAND_TEXT);

  return {
    event: {
      kind: 'command',
      platform: 'feishu',
      deliveryId: message.event_id,
      actor: { platform: 'feishu', userId: unionId, displayName: unionId },
      channel: { platform: 'feishu', channelId: m.chat_id },
      text,
    },
    replyTo: m.message_id,
  };
}

/** A click on one of jitbot's card buttons; the comment comes from the form's comment input. */
export function actionFromCallback(
  callback: CardActionCallback,
  fallbackDeliveryId: string,
): TranslatedAction | Untranslated {
  const value = buttonValue(callback.action.value);
  if (!value) return { ignored: 'not a jitbot button' };
  const unionId = callback.operator.union_id;
  if (!unionId) return { ignored: 'the operator has no union_id' };
  const chatId = callback.context?.open_chat_id ?? callback.open_chat_id;
  if (!chatId) return { ignored: 'the callback names no chat' };
  const messageId = callback.context?.open_message_id ?? callback.open_message_id;
  const message: MessageRef | undefined = messageId ? { platform: 'feishu', channelId: chatId, messageId } : undefined;
  const typed = callback.action.form_value?.[CARD_NAMES.comment];
  const comment = typeof typed === 'string' && typed.trim() !== '' ? typed.trim() : undefined;

  return {
    event: {
      kind: 'action',
      platform: 'feishu',
      deliveryId: callback.event_id ?? (callback.token ? `card-${callback.token}` : fallbackDeliveryId),
      actor: { platform: 'feishu', userId: unionId, displayName: unionId },
      channel: { platform: 'feishu', channelId: chatId },
      action: value.action,
      requestId: value.requestId,
      ...(comment !== undefined && { comment }),
      ...(message && { message }),
    },
    ...(callback.token !== undefined && { callbackToken: callback.token }),
  };
}

function buttonValue(value: unknown): { action: CardActionName; requestId: string } | undefined {
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (object === null || typeof object !== 'object') return undefined;
  const { action, requestId } = object as { action?: unknown; requestId?: unknown };
  if (typeof action !== 'string' || !(CARD_ACTIONS as readonly string[]).includes(action)) return undefined;
  if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) return undefined;
  return { action: action as CardActionName, requestId };
}

function textContent(content: string): string | undefined {
  try {
    const parsed = JSON.parse(content) as { text?: unknown } | null;
    return parsed !== null && typeof parsed === 'object' && typeof parsed.text === 'string' ? parsed.text : undefined;
  } catch {
    return undefined;
  }
}
