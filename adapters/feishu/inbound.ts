import type { HttpLogger } from '../../src/http/server';
import type { InboundEvent, InboundHandler, Reply } from '../../src/ports/chat';
import type { CardCallbackAnswer, FeishuEventHandlers } from './dispatcher';
import { fitText } from './feishu-text';
import { actionFromCallback, cardActionSchema, commandFromMessage, messageEventSchema } from './payloads';

// The transport-neutral inbound side: both transports hand the SDK dispatcher's flattened events here.
// Timing differs by kind:
// - a message (a command) is acknowledged at once and handled afterwards; the answer is a reply to the message;
// - a card click is answered inside the response (Feishu waits 3 s): a toast with the core's reply. When the core
//   has not answered within the deadline, Feishu gets an empty answer and the reply goes to the clicker by DM.
// Re-deliveries are recognised by the card callback's token here; event ids are claimed by the core.

export const NOT_READY_TEXT = 'jitbot is still starting; try again in a moment.';
export const HANDLER_FAILED_TEXT = 'jitbot could not process this; the details are in its log.';

/** Answer a click within this, leaving room in Feishu's 3 seconds for the network. */
export const CLICK_DEADLINE_MS = 2500;
const SEEN_TOKENS = 5000;
/** A toast is a one-glance message; longer replies are cut (the thread and the card carry the detail). */
const MAX_TOAST_TEXT = 500;

export interface FeishuInboundOptions {
  logger: HttpLogger;
  /** The bot's open_id (looked up once, again after a failure): group messages count only when they mention it. */
  botOpenId(): Promise<string | undefined>;
  /** The person's name, for the core's messages and the card (cached look-up); undefined when unknown. */
  displayName(unionId: string): Promise<string | undefined>;
  /** Replies to the person's message with the answer to their command. */
  answerCommand(messageId: string, text: string): Promise<void>;
  /** Tells the clicker privately what happened when the answer missed the click's deadline. */
  answerLate(unionId: string, text: string): Promise<void>;
  clickDeadlineMs?: number;
}

export class FeishuInbound implements FeishuEventHandlers {
  private handler: InboundHandler | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly seenTokens = new Set<string>();

  constructor(private readonly options: FeishuInboundOptions) {}

  setHandler(handler: InboundHandler | undefined): void {
    this.handler = handler;
  }

  /** Resolves when every delivery received so far has been handled and answered. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  readonly message = async (data: Record<string, unknown>): Promise<void> => {
    const parsed = messageEventSchema.safeParse(data);
    if (!parsed.success) {
      this.options.logger.warn({ issues: parsed.error.issues.length }, 'unreadable feishu message event ignored');
      return;
    }
    const translated = commandFromMessage(parsed.data, await this.options.botOpenId());
    if ('ignored' in translated) {
      this.options.logger.debug({ reason: translated.ignored, chat: parsed.data.message.chat_id }, 'feishu message ignored');
      return;
    }
    // Acknowledged now (the caller answers Feishu when this resolves); the work goes on in the background.
    this.track(
      (async () => {
        const reply = await this.dispatch(translated.event);
        if (reply.kind === 'none' || !reply.text) return;
        await this.options.answerCommand(translated.replyTo, reply.text).catch((error: unknown) => {
          this.options.logger.warn({ err: describe(error) }, 'could not answer a feishu command');
        });
      })(),
    );
  };

  readonly cardAction = async (data: Record<string, unknown>): Promise<CardCallbackAnswer | undefined> => {
    const parsed = cardActionSchema.safeParse(data);
    if (!parsed.success) {
      this.options.logger.warn({ issues: parsed.error.issues.length }, 'unreadable feishu card callback ignored');
      return undefined;
    }
    const translated = actionFromCallback(parsed.data, `card-${Date.now()}`);
    if ('ignored' in translated) {
      this.options.logger.debug({ reason: translated.ignored }, 'feishu card callback ignored');
      return undefined;
    }
    if (translated.callbackToken !== undefined) {
      if (this.seenTokens.has(translated.callbackToken)) return undefined;
      remember(this.seenTokens, translated.callbackToken);
    }
    const event = translated.event;
    const work = this.dispatch(event);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.options.clickDeadlineMs ?? CLICK_DEADLINE_MS);
    });
    const first = await Promise.race([work, late]);
    clearTimeout(timer);
    if (first !== 'late') return toastFor(first);

    this.options.logger.warn({ deliveryId: event.deliveryId }, 'feishu card click answered late; the reply goes by DM');
    this.track(
      (async () => {
        const reply = await work;
        if (reply.kind === 'none' || !reply.text) return;
        await this.options.answerLate(event.actor.userId, reply.text).catch((error: unknown) => {
          this.options.logger.warn({ err: describe(error) }, 'could not send a late click answer');
        });
      })(),
    );
    return undefined;
  };

  private async dispatch(event: InboundEvent): Promise<Reply> {
    const handler = this.handler;
    if (!handler) return { kind: 'error', text: NOT_READY_TEXT };
    try {
      const displayName = await this.options.displayName(event.actor.userId).catch(() => undefined);
      return await handler(displayName ? { ...event, actor: { ...event.actor, displayName } } : event);
    } catch (error) {
      this.options.logger.error({ err: error, deliveryId: event.deliveryId }, 'feishu event handler failed');
      return { kind: 'error', text: HANDLER_FAILED_TEXT };
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

function toastFor(reply: Reply): CardCallbackAnswer | undefined {
  if (reply.kind === 'none' || !reply.text) return undefined;
  return { toast: { type: reply.kind === 'error' ? 'error' : 'success', content: fitText(reply.text, MAX_TOAST_TEXT) } };
}

function remember(set: Set<string>, value: string): void {
  set.add(value);
  if (set.size > SEEN_TOKENS) {
    const oldest = set.values().next().value;
    if (oldest !== undefined) set.delete(oldest);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
