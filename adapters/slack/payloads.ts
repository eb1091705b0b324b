import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isCardActionId, type CardActionId } from '../../src/core/card';
import type { MessageRef } from '../../src/core/model';
import type { ActionEvent, CommandEvent } from '../../src/ports/chat';
import { CARD_IDS } from './block-kit';

// What Slack sends, as far as jitbot reads it, and its translation into neutral events. Pure functions.
// Slash commands and button clicks carry no delivery id, so one is derived from fields that identify the
// delivery: Slack's trigger_id is unique per invocation, and a redelivery repeats it, so the id repeats too.

const id = z.string().min(1).max(255);
const url = z.url({ protocol: /^https?$/ });

export const slashCommandSchema = z.object({
  command: z.string().min(1).max(100),
  // No length limit here: an over-long command reaches the core, which says how long it may be.
  text: z.string().default(''),
  user_id: id,
  user_name: z.string().max(255).optional(),
  channel_id: id,
  team_id: z.string().max(255).default(''),
  trigger_id: id,
  response_url: url,
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

const inputState = z.object({ type: z.string(), value: z.string().nullish() });

export const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id, name: z.string().max(255).optional(), username: z.string().max(255).optional() }),
  channel: z.object({ id }).optional(),
  container: z.object({ channel_id: id.optional(), message_ts: id.optional() }).optional(),
  message: z.object({ ts: id }).optional(),
  trigger_id: id,
  response_url: url,
  actions: z.array(
    z.object({
      action_id: z.string().max(255),
      value: z.string().max(2000).optional(),
      action_ts: z.string().max(64).optional(),
    }),
  ),
  state: z.object({ values: z.record(z.string(), z.record(z.string(), inputState)) }).optional(),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;

/** A translated delivery: the neutral event and where to answer the person who sent it. */
export interface Translated<E> {
  event: E;
  responseUrl: string;
}

export function commandEvent(command: SlashCommand): Translated<CommandEvent> {
  return {
    event: {
      kind: 'command',
      platform: 'slack',
      deliveryId: `cmd-${digest([command.team_id, command.channel_id, command.user_id, command.trigger_id])}`,
      actor: { platform: 'slack', userId: command.user_id, displayName: command.user_name || command.user_id },
      channel: { platform: 'slack', channelId: command.channel_id },
      text: command.text.trim(),
    },
    responseUrl: command.response_url,
  };
}

/** The card button a block_actions payload reports, or undefined when it is not one of jitbot's. */
export function actionEvent(payload: BlockActions): Translated<ActionEvent> | undefined {
  const clicked = payload.actions.find((a): a is typeof a & { action_id: CardActionId } => isCardActionId(a.action_id));
  const requestId = clicked?.value?.trim();
  const channelId = payload.channel?.id ?? payload.container?.channel_id;
  if (!clicked || !requestId || !channelId) return undefined;

  const messageTs = payload.container?.message_ts ?? payload.message?.ts;
  const message: MessageRef | undefined = messageTs
    ? { platform: 'slack', channelId, messageId: messageTs }
    : undefined;
  const comment = typedComment(payload);
  const user = payload.user;
  return {
    event: {
      kind: 'action',
      platform: 'slack',
      deliveryId: `act-${digest([clicked.action_ts ?? '', user.id, payload.trigger_id])}`,
      actor: { platform: 'slack', userId: user.id, displayName: user.name || user.username || user.id },
      channel: { platform: 'slack', channelId },
      action: clicked.action_id,
      requestId,
      ...(comment !== undefined && { comment }),
      ...(message && { message }),
    },
    responseUrl: payload.response_url,
  };
}

/** What the clicker typed in the card's comment box; Slack sends input values in `state.values`. */
function typedComment(payload: BlockActions): string | undefined {
  const values = payload.state?.values ?? {};
  const preferred = values[CARD_IDS.commentBlock]?.[CARD_IDS.commentAction];
  const entry =
    preferred ?? Object.values(values).find((block) => block[CARD_IDS.commentAction])?.[CARD_IDS.commentAction];
  const comment = entry?.type === 'plain_text_input' ? entry.value?.trim() : undefined;
  return comment ? comment : undefined;
}

function digest(parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}
