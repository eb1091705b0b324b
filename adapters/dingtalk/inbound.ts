import type { HttpLogger } from '../../src/http/server';
import { escapeMarkdown } from './dingtalk-text';
import type { InboundEvent, InboundHandler, Reply, ResolvedUser } from '../../src/ports/chat';
import {
  cardCallbackSchema,
  channelOf,
  robotMessageSchema,
  translateCardCallback,
  translateRobotMessage,
  type TranslateContext,
  type Translation,
} from './payloads';

// The transport-neutral inbound side: Stream and HTTP both hand over parsed deliveries here.
// - A robot message is handled before it is acknowledged (Stream ack / HTTP 200), so DingTalk redelivers it if
//   jitbot fails or stops half-way; the delivery id (the message's msgId) makes a redelivery harmless.
// - A card click is answered inside its Stream ack: the note for the clicker goes in the card's private data.
//   If the core has not answered within the deadline, the ack carries a "working" note and the answer follows
//   by DM.
// DingTalk has no private reply in a group, so every other answer goes to the person by DM.
// (This is the adapter's own copy of the ack/answer cycle until the shared dispatcher of the adapter kit lands.)

export const NOT_READY_TEXT = 'jitbot is still starting; try again in a moment.';
export const HANDLER_FAILED_TEXT = 'jitbot could not process this; the details are in its log.';
export const WORKING_TEXT = '⏳ jitbot is working on it; the answer will come as a message.';
export const DEFAULT_CLICK_DEADLINE_MS = 2_500;
const NOTE_MAX = 1000;

export interface DingTalkInboundOptions extends TranslateContext {
  logger: HttpLogger;
  /** Name and email of a userid (cached); rejects when DingTalk cannot say. */
  resolveUser(userId: string): Promise<ResolvedUser>;
  /** Sends a text to one person by DM. */
  sendDirect(userId: string, text: string): Promise<void>;
  /** Posts a short text in a group (where a DM could not reach the person). */
  sendGroup(openConversationId: string, text: string): Promise<void>;
  clickDeadlineMs?: number;
}

/** What a card click's Stream ack carries (DingTalk's card callback response). */
export interface CardCallbackAnswer {
  cardUpdateOptions: { updateCardDataByKey: true; updatePrivateDataByKey: true };
  userPrivateData: { cardParamMap: { note: string } };
}

export class DingTalkInbound {
  private handler: InboundHandler | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: DingTalkInboundOptions) {}

  setHandler(handler: InboundHandler | undefined): void {
    this.handler = handler;
  }

  /** Resolves when every delivery received so far has been handled and answered. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** A robot message (Stream CALLBACK data or HTTP body). Resolves once handled; rejects to leave it un-acked. */
  async robotMessage(body: unknown): Promise<void> {
    const parsed = robotMessageSchema.safeParse(body);
    if (!parsed.success) {
      this.options.logger.warn({ issues: parsed.error.issues.length }, 'unreadable dingtalk robot message ignored');
      return;
    }
    const translation = translateRobotMessage(parsed.data, this.options);
    const event = await this.eventOrAnswer(translation);
    if (!event) return;
    const reply = await this.dispatch(event);
    await this.answerByDm(event, reply);
  }

  /** A card click (Stream CALLBACK data, with the frame's messageId). Resolves with the ack's content. */
  async cardCallback(body: unknown, streamMessageId: string): Promise<CardCallbackAnswer | undefined> {
    const parsed = cardCallbackSchema.safeParse(body);
    if (!parsed.success) {
      this.options.logger.warn({ issues: parsed.error.issues.length }, 'unreadable dingtalk card callback ignored');
      return undefined;
    }
    const translation = translateCardCallback(parsed.data, `card:${streamMessageId}`, this.options);
    if (translation.kind === 'refused') return note(translation.text);
    const event = await this.eventOrAnswer(translation);
    if (!event) return undefined;

    const work = this.withDisplayName(event).then((named) => this.dispatch(named));
    this.track(work);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.options.clickDeadlineMs ?? DEFAULT_CLICK_DEADLINE_MS)));
    const first = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (first !== 'late') return note(first.kind === 'none' ? '' : (first.text ?? ''));
    this.track(work.then((reply) => this.answerByDm(event, reply)));
    return note(WORKING_TEXT);
  }

  private async eventOrAnswer<E extends InboundEvent>(translation: Translation<E>): Promise<E | undefined> {
    switch (translation.kind) {
      case 'event':
        return translation.event;
      case 'ignored':
        this.options.logger.debug({ why: translation.why }, 'dingtalk delivery ignored');
        return undefined;
      case 'refused':
        this.options.logger.info({ why: translation.why }, 'dingtalk delivery refused');
        if (translation.to) await this.sendDm(translation.to.userId, translation.text);
        return undefined;
    }
  }

  private async withDisplayName<E extends InboundEvent>(event: E): Promise<E> {
    const user = await this.options.resolveUser(event.actor.userId).catch(() => undefined);
    return user ? { ...event, actor: { ...event.actor, displayName: user.displayName } } : event;
  }

  private async dispatch(event: InboundEvent): Promise<Reply> {
    const handler = this.handler;
    if (!handler) return { kind: 'error', text: NOT_READY_TEXT };
    try {
      return await handler(event);
    } catch (error) {
      this.options.logger.error({ err: describe(error), deliveryId: event.deliveryId }, 'dingtalk event handler failed');
      // Thrown, not answered: the delivery stays un-acked and DingTalk sends it again.
      throw error;
    }
  }

  /** The reply, privately: a DM, or — if DingTalk cannot deliver that — a short note in the group. */
  private async answerByDm(event: InboundEvent, reply: Reply): Promise<void> {
    if (reply.kind === 'none' || !reply.text) return;
    if (await this.sendDm(event.actor.userId, reply.text)) return;
    const channel = event.channel.channelId;
    if (channel === channelOf({ kind: 'direct', userId: event.actor.userId }).channelId) return;
    try {
      await this.options.sendGroup(channel, `@${event.actor.displayName} ${reply.text}`);
    } catch (error) {
      this.options.logger.warn({ err: describe(error) }, 'could not answer in the dingtalk group either');
    }
  }

  private async sendDm(userId: string, text: string): Promise<boolean> {
    try {
      await this.options.sendDirect(userId, text);
      return true;
    } catch (error) {
      this.options.logger.warn({ err: describe(error) }, 'could not send a dingtalk DM');
      return false;
    }
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined);
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }
}

/** The clicker's private note (a markdown variable: escaped like everything else). */
function note(text: string): CardCallbackAnswer {
  return {
    cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
    userPrivateData: { cardParamMap: { note: text.trim() === '' ? '' : escapeMarkdown(text, NOTE_MAX) } },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
