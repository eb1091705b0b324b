import type { ChannelRef, UserRef } from '../../src/core/model';
import type { ApprovalCard } from '../../src/core/card';
import type { ChatCapabilities, InboundEvent, Reply, ResolvedUser } from '../../src/ports/chat';
import { DispatchingInbound, withDisplayName } from '../shared/dispatching-inbound';
import type { InboundLogger } from '../shared/inbound-dispatcher';
import { escapeMarkdown } from './dingtalk-text';
import {
  cardCallbackSchema,
  robotMessageSchema,
  translateCardCallback,
  translateRobotMessage,
  type TranslateContext,
} from './payloads';

// DingTalk's inbound side, shared by Stream and HTTP: reads a delivery into a neutral event and hands it to the
// shared dispatcher in answer-in-response mode.
// - A robot message is acknowledged (Stream ack / HTTP 200) only once the core has handled it and, with the
//   durable intake, once it is stored (or known already), so DingTalk redelivers it if jitbot fails, cannot store
//   it, or stops half-way; the message's msgId is its delivery id. The answer goes to
//   the person by DM: DingTalk has no private reply in a group.
// - A card click is answered inside its Stream ack: the card's public data redrawn (Reply.card) and a note for
//   the clicker in the card's private data. If the core misses the deadline (a slow store, say), the ack carries
//   "working…"; the answer then replaces that note on the card and also goes by DM.

export const DEFAULT_CLICK_DEADLINE_MS = 2_500;
/** Robot messages are redelivered after about a minute without an ack; the core's answer is awaited up to this. */
export const ROBOT_MESSAGE_DEADLINE_MS = 45_000;
const NOTE_MAX = 1000;

export interface DingTalkInboundOptions extends TranslateContext {
  logger: InboundLogger;
  capabilities: ChatCapabilities;
  /** Name and email of a userid (cached); rejects when DingTalk cannot say. */
  resolveUser(userId: string): Promise<ResolvedUser>;
  /** A DM to the person. */
  notifyUser(user: UserRef, text: string, lastSeenIn: ChannelRef): Promise<void>;
  /** The card's public variables for a redrawn card, recorded as shown on that card (see the adapter). */
  cardParams(outTrackId: string, card: ApprovalCard): Record<string, string>;
  /** Sets the note on the card that only `userId` sees (a late answer replacing "working…"). */
  updateNote(outTrackId: string, userId: string, note: string): Promise<void>;
  clickDeadlineMs?: number;
}

/** What a card click's Stream ack carries (DingTalk's card callback response). */
export interface CardCallbackAnswer {
  cardUpdateOptions: { updateCardDataByKey: true; updatePrivateDataByKey: true };
  cardData?: { cardParamMap: Record<string, string> };
  userPrivateData: { cardParamMap: { note: string } };
}

/** A robot message the core could not handle: left un-acked so DingTalk delivers it again. */
export class RobotMessageFailed extends Error {}

export class DingTalkInbound extends DispatchingInbound {
  constructor(private readonly options: DingTalkInboundOptions) {
    super({
      platform: 'dingtalk',
      capabilities: options.capabilities,
      logger: options.logger,
      notifyUser: options.notifyUser,
      enrich: withDisplayName(async (userId) => (await options.resolveUser(userId)).displayName),
    });
  }

  /** A robot message (Stream CALLBACK data or HTTP body). Resolves once handled; rejects to leave it un-acked. */
  async robotMessage(body: unknown): Promise<void> {
    let event: { actor: UserRef; channel: ChannelRef } | undefined;
    const outcome = await this.dispatcher.answerInResponse({
      deadlineMs: ROBOT_MESSAGE_DEADLINE_MS,
      translate: () => {
        const parsed = robotMessageSchema.safeParse(body);
        if (!parsed.success) return { kind: 'ignore', why: 'unreadable robot message' };
        const translation = translateRobotMessage(parsed.data, this.options);
        if (translation.kind === 'event' || translation.kind === 'refuse') event = translation.event;
        return translation;
      },
    });
    if (outcome.outcome !== 'answered' || !event) return;
    // A typed decision is a "click" to the dispatcher, whose reply it leaves to us; a message has no card to show it on.
    const text = outcome.reply.text;
    if (text && outcome.reply.kind !== 'none') await this.dispatcher.dm(event, text);
    if (outcome.failed) throw new RobotMessageFailed('the core could not handle the robot message');
    // The core's handler never throws (a store failure is an error reply), so the intake's receipt decides: an
    // event that was neither stored nor known stays un-acked, and DingTalk's redelivery is stored (or a duplicate).
    if (outcome.intake === 'not-stored') throw new RobotMessageFailed('the robot message could not be stored');
  }

  /** A card click (Stream CALLBACK data, with the frame's messageId). Resolves with the ack's content. */
  async cardCallback(body: unknown, streamMessageId: string): Promise<CardCallbackAnswer | undefined> {
    let outTrackId = '';
    const outcome = await this.dispatcher.answerInResponse({
      deadlineMs: this.options.clickDeadlineMs ?? DEFAULT_CLICK_DEADLINE_MS,
      translate: () => {
        const parsed = cardCallbackSchema.safeParse(body);
        if (!parsed.success) return { kind: 'ignore', why: 'unreadable card callback' };
        outTrackId = parsed.data.outTrackId;
        return translateCardCallback(parsed.data, `card:${streamMessageId}`, this.options);
      },
      late: (reply, event) => this.answerLate(outTrackId, reply, event),
    });
    switch (outcome.outcome) {
      case 'answered': {
        const { reply } = outcome;
        return {
          cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
          ...(reply.card && { cardData: { cardParamMap: this.options.cardParams(outTrackId, reply.card) } }),
          userPrivateData: { cardParamMap: { note: note(reply.kind === 'none' ? '' : (reply.text ?? '')) } },
        };
      }
      case 'pending':
        return {
          cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
          userPrivateData: { cardParamMap: { note: note(outcome.text) } },
        };
      default:
        return undefined;
    }
  }

  /**
   * The answer to a click acknowledged with "working…" (the core, or storing the click, took longer than the
   * deadline): the clicker's note on the card is replaced with it, so the card stops saying "working…", and the text
   * also goes by DM, which notifies them. The card's public data needs nothing: the outbox redraws it.
   */
  private async answerLate(outTrackId: string, reply: Reply, event: InboundEvent): Promise<void> {
    const text = reply.kind === 'none' ? '' : (reply.text ?? '');
    try {
      await this.options.updateNote(outTrackId, event.actor.userId, note(text));
    } catch (error) {
      this.options.logger.warn(
        { platform: 'dingtalk', err: error instanceof Error ? error.message : String(error) },
        'could not replace the "working" note on the card',
      );
    }
    if (text) await this.dispatcher.dm(event, text);
  }
}

/** The clicker's private note (a markdown variable: escaped like everything else). */
function note(text: string): string {
  return text.trim() === '' ? '' : escapeMarkdown(text, NOTE_MAX);
}
