import { LRUCache } from 'lru-cache';
import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, UserRef } from '../../src/core/model';
import type { ActionEvent, ChatCapabilities, Reply } from '../../src/ports/chat';
import { DispatchingInbound, withDisplayName } from '../shared/dispatching-inbound';
import type { AnswerInResponseOutcome, InboundLogger, Translation } from '../shared/inbound-dispatcher';
import type { CardCallbackAnswer, FeishuEventHandlers } from './dispatcher';
import { fitText } from './feishu-text';
import { actionFromCallback, cardActionSchema, commandFromMessage, messageEventSchema } from './payloads';

// Feishu's inbound side, shared by the long connection and HTTP callbacks: both hand the SDK dispatcher's
// flattened events here, and the shared dispatcher does the rest. Timing differs by kind:
// - a message (a command) is acknowledged at once (ack-then-answer); the answer is a reply to the message;
// - a card click is answered inside the response (answer-in-response, 2.5 s of Feishu's 3): a toast with the
//   core's reply and the redrawn card. Past the deadline Feishu gets a "working…" toast and the reply goes by DM.
// The core claims event ids; a card callback redelivered under another event id is recognised by its token and
// given the first delivery's id.

/** Answer a click within this, leaving room in Feishu's 3 seconds for the network. */
export const CLICK_DEADLINE_MS = 2500;
/** A toast is a one-glance message; longer replies are cut (the thread and the card carry the detail). */
const MAX_TOAST_TEXT = 500;

export interface FeishuInboundOptions {
  logger: InboundLogger;
  capabilities: ChatCapabilities;
  /** The bot's open_id (looked up once, again after a failure): group messages count only when they mention it. */
  botOpenId(): Promise<string | undefined>;
  /** The person's name, for the core's messages and the card (cached look-up); undefined when unknown. */
  displayName(unionId: string): Promise<string | undefined>;
  /** Replies to the person's message with the answer to their command. */
  answerCommand(messageId: string, text: string): Promise<void>;
  /** A DM to the person: late click answers. */
  notifyUser(user: UserRef, text: string, lastSeenIn: ChannelRef): Promise<void>;
  /** The redrawn card for the click's response, or undefined when something newer is shown already. */
  cardForResponse(messageId: string | undefined, card: ApprovalCard): unknown;
  clickDeadlineMs?: number;
}

export class FeishuInbound extends DispatchingInbound implements FeishuEventHandlers {
  /** The delivery id each card callback token was first seen under: a click redelivered is the same delivery. */
  private readonly tokenDeliveries = new LRUCache<string, string>({ max: 5000 });

  constructor(private readonly options: FeishuInboundOptions) {
    super({
      platform: 'feishu',
      capabilities: options.capabilities,
      logger: options.logger,
      notifyUser: options.notifyUser,
      enrich: withDisplayName(options.displayName),
    });
  }

  readonly message = async (data: Record<string, unknown>): Promise<void> => {
    let replyTo = '';
    await this.dispatcher.ackThenAnswer({
      translate: async (): Promise<Translation> => {
        const parsed = messageEventSchema.safeParse(data);
        if (!parsed.success) return { kind: 'ignore', why: 'unreadable message event' };
        const translated = commandFromMessage(parsed.data, await this.options.botOpenId());
        if ('ignored' in translated) return { kind: 'ignore', why: translated.ignored };
        replyTo = translated.replyTo;
        if (parsed.data.message.chat_type !== 'p2p') {
          // Where an admin finds the id to map the group to a role (`jitbot channels map oc_… role -p feishu`).
          this.options.logger.info(
            { platform: 'feishu', chatId: parsed.data.message.chat_id, deliveryId: translated.event.deliveryId },
            'feishu command from a group',
          );
        }
        return { kind: 'event', event: translated.event };
      },
      answer: async (reply) => {
        if (reply.text) await this.options.answerCommand(replyTo, reply.text);
      },
    });
  };

  readonly cardAction = async (data: Record<string, unknown>): Promise<CardCallbackAnswer | undefined> => {
    let messageId: string | undefined;
    const outcome = await this.dispatcher.answerInResponse({
      deadlineMs: this.options.clickDeadlineMs ?? CLICK_DEADLINE_MS,
      translate: (): Translation => {
        const parsed = cardActionSchema.safeParse(data);
        if (!parsed.success) return { kind: 'ignore', why: 'unreadable card callback' };
        const translated = actionFromCallback(parsed.data, `card-${Date.now()}`);
        if ('ignored' in translated) return { kind: 'ignore', why: translated.ignored };
        const event = this.sameDeliveryForSameToken(translated.event, translated.callbackToken);
        messageId = event.message?.messageId;
        return { kind: 'event', event };
      },
    });
    return this.answer(outcome, messageId);
  };

  /**
   * A click pushed again (even under another event id) repeats its callback token: it gets the first delivery's
   * id, so it joins that click while in flight here, and afterwards the core's claim decides (a duplicate, or,
   * when handling failed and the claim was released, handled again). Nothing is dropped before it is handled.
   */
  private sameDeliveryForSameToken(event: ActionEvent, token: string | undefined): ActionEvent {
    if (token === undefined) return event;
    const first = this.tokenDeliveries.get(token);
    if (first === undefined) {
      this.tokenDeliveries.set(token, event.deliveryId);
      return event;
    }
    if (first !== event.deliveryId) {
      this.options.logger.info(
        { platform: 'feishu', deliveryId: event.deliveryId, firstDeliveryId: first },
        'card callback redelivered under another event id; handled as the first',
      );
    }
    return { ...event, deliveryId: first };
  }

  private answer(outcome: AnswerInResponseOutcome, messageId: string | undefined): CardCallbackAnswer | undefined {
    switch (outcome.outcome) {
      case 'answered':
        return this.answerWith(outcome.reply, messageId);
      case 'pending':
        return outcome.text ? { toast: { type: 'info', content: fitText(outcome.text, MAX_TOAST_TEXT) } } : undefined;
      default:
        return undefined;
    }
  }

  private answerWith(reply: Reply, messageId: string | undefined): CardCallbackAnswer | undefined {
    const answer: CardCallbackAnswer = {};
    if (reply.kind !== 'none' && reply.text) {
      answer.toast = {
        type: reply.kind === 'error' ? 'error' : 'success',
        content: fitText(reply.text, MAX_TOAST_TEXT),
      };
    }
    const card = reply.card ? this.options.cardForResponse(messageId, reply.card) : undefined;
    if (card !== undefined) answer.card = { type: 'raw', data: card };
    return answer.toast || answer.card ? answer : undefined;
  }
}
