import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ChannelRef, MessageRef, UserRef } from '../../src/core/model';
import type { ActionEvent, CommandEvent } from '../../src/ports/chat';
import { COMMENT_INPUT_ID } from './adaptive-card';

// What the Bot Connector posts, as far as jitbot reads it, and its translation into neutral events. Pure.
// - A message that @mentions the bot (channel, group chat) or any message in the 1:1 chat is a command: the
//   bot's own mention is removed, other mentions stay as plain "@Name" text.
// - An `invoke` named `adaptiveCard/action` (Action.Execute) is a card click: the verb is the verdict, the data
//   carries the request id and the comment box's value.
// - Anything else in the bot's 1:1 chat (e.g. the app being installed for the person) is ignored, but names who
//   the person is and where to reach them, so that they can be DMed before they write.
// People are identified by their Entra object id (stable across chats and apps); the delivery id is the
// activity id, which Teams repeats when it resends an activity it got no answer to in time, with the
// conversation it belongs to (a channel message's id is only unique within its channel).

const text = (max: number) => z.string().max(max);
const id = text(1024).min(1);

const accountSchema = z.object({
  id,
  name: text(1024).optional(),
  aadObjectId: text(64).optional(),
});

const mentionSchema = z.object({
  type: z.literal('mention'),
  mentioned: z.object({ id: text(1024), name: text(1024).optional() }),
  text: text(2048).optional(),
});

export const activitySchema = z.object({
  type: text(64),
  id,
  name: text(256).optional(),
  channelId: z.literal('msteams'),
  serviceUrl: z.url({ protocol: /^https?$/ }),
  from: accountSchema,
  recipient: accountSchema,
  conversation: z.object({
    id,
    conversationType: text(64).optional(),
    tenantId: text(64).optional(),
  }),
  channelData: z.object({ tenant: z.object({ id: text(64) }).optional() }).optional(),
  text: text(40_000).optional(),
  entities: z.array(z.unknown()).max(200).optional(),
  value: z.unknown().optional(),
  replyToId: text(1024).optional(),
  locale: text(35).optional(),
});
export type TeamsActivity = z.infer<typeof activitySchema>;

export const INVOKE_CARD_ACTION = 'adaptiveCard/action';
const VERDICTS = ['approve', 'reject', 'revoke'] as const;

const cardActionValueSchema = z.object({
  action: z.object({
    type: z.literal('Action.Execute'),
    verb: text(64),
    data: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** Where an activity came from: its conversation and the Bot Connector that serves it. */
export interface TeamsOrigin {
  serviceUrl: string;
  conversationId: string;
  tenantId: string | undefined;
  /** The person's app-scoped id (`29:…`): the id Teams wants when opening a 1:1 chat. */
  fromId: string;
  /** The conversation is the bot's 1:1 chat with the person. */
  personal: boolean;
}

export type Translation =
  | { kind: 'command'; event: CommandEvent; origin: TeamsOrigin }
  | { kind: 'action'; event: ActionEvent; origin: TeamsOrigin }
  | {
      kind: 'ignored';
      reason: string;
      /** Set in the bot's 1:1 chat (e.g. the app being installed for the person): who it is, and where to reach them. */
      personal?: { origin: TeamsOrigin; actor: UserRef };
    };

export function translateActivity(activity: TeamsActivity): Translation {
  const actor = actorOf(activity);
  if (!actor) return { kind: 'ignored', reason: 'the sender has no Entra object id' };
  const translation = translateFrom(activity, actor);
  if (translation.kind === 'ignored' && activity.conversation.conversationType === 'personal')
    return { ...translation, personal: { origin: originOf(activity), actor } };
  return translation;
}

function originOf(activity: TeamsActivity): TeamsOrigin {
  return {
    serviceUrl: activity.serviceUrl,
    // Member look-ups go to the channel, not to one of its threads.
    conversationId: channelIdOf(activity.conversation.id),
    tenantId: tenantOf(activity),
    fromId: activity.from.id,
    personal: activity.conversation.conversationType === 'personal',
  };
}

function translateFrom(activity: TeamsActivity, actor: UserRef): Translation {
  const origin = originOf(activity);
  const channel: ChannelRef = { platform: 'teams', channelId: origin.conversationId };
  const deliveryId = `teams:${digest(activity.conversation.id)}:${activity.id}`;
  const locale = activity.locale ? { locale: activity.locale } : {};

  if (activity.type === 'message') {
    const commandText = commandTextOf(activity);
    if (commandText === undefined) return { kind: 'ignored', reason: 'a message that does not mention the bot' };
    return {
      kind: 'command',
      origin,
      event: { kind: 'command', platform: 'teams', deliveryId, actor, channel, ...locale, text: commandText },
    };
  }

  if (activity.type === 'invoke' && activity.name === INVOKE_CARD_ACTION) {
    const value = cardActionValueSchema.safeParse(activity.value);
    if (!value.success) return { kind: 'ignored', reason: 'an unreadable card action' };
    const verb = value.data.action.verb;
    const data = value.data.action.data ?? {};
    const requestId = typeof data.requestId === 'string' ? data.requestId.trim().slice(0, 64) : '';
    if (!(VERDICTS as readonly string[]).includes(verb) || !requestId)
      return { kind: 'ignored', reason: "a card action that is not jitbot's" };
    const comment =
      typeof data[COMMENT_INPUT_ID] === 'string' ? (data[COMMENT_INPUT_ID] as string).trim().slice(0, 3000) : '';
    const message: MessageRef | undefined = activity.replyToId
      ? { platform: 'teams', channelId: channel.channelId, messageId: activity.replyToId }
      : undefined;
    return {
      kind: 'action',
      origin,
      event: {
        kind: 'action',
        platform: 'teams',
        deliveryId,
        actor,
        channel,
        ...locale,
        action: verb as (typeof VERDICTS)[number],
        requestId,
        ...(comment && { comment }),
        ...(message && { message }),
      },
    };
  }
  return { kind: 'ignored', reason: `activity type ${activity.type}${activity.name ? `/${activity.name}` : ''}` };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function actorOf(activity: TeamsActivity): UserRef | undefined {
  // Entra object ids are GUIDs, which ignore case: lower-cased here as in the config (the module's canonicalUserId).
  const objectId = activity.from.aadObjectId?.trim().toLowerCase();
  if (!objectId) return undefined;
  return { platform: 'teams', userId: objectId, displayName: activity.from.name?.trim() || objectId };
}

export function tenantOf(activity: TeamsActivity): string | undefined {
  return activity.conversation.tenantId ?? activity.channelData?.tenant?.id;
}

/** A channel thread's conversation id names the thread (`…;messageid=123`); the channel is what comes before. */
export function channelIdOf(conversationId: string): string {
  const cut = conversationId.indexOf(';messageid=');
  return cut === -1 ? conversationId : conversationId.slice(0, cut);
}

/**
 * The command typed after the bot's @mention; in the 1:1 chat no mention is needed. Undefined for a channel or
 * group message that does not mention the bot (Teams only sends those with extra permissions).
 */
export function commandTextOf(activity: TeamsActivity): string | undefined {
  const raw = activity.text ?? '';
  const mentions = (activity.entities ?? []).flatMap((entity) => {
    const parsed = mentionSchema.safeParse(entity);
    return parsed.success ? [parsed.data] : [];
  });
  const botMentions = mentions.filter((m) => m.mentioned.id === activity.recipient.id);
  const personal = activity.conversation.conversationType === 'personal';
  if (botMentions.length === 0 && !personal) return undefined;

  let text = raw;
  for (const mention of botMentions) {
    const tag = mention.text ?? `<at>${mention.mentioned.name ?? ''}</at>`;
    text = text.replace(tag, ' ');
  }
  text = decodeEntities(text.replace(/<at>([\s\S]*?)<\/at>/g, '@$1'));
  return text.replace(/^\s*\/jit(?=\s|$)/i, '').trim();
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Teams sends typed text HTML-encoded (`&amp;`, `&lt;`, `&nbsp;`, `&#39;`): the command sees the characters typed. */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (entity, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
  });
}
