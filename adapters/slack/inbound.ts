import type { HttpLogger } from '../../src/http/server';
import type { InboundEvent, InboundHandler, Reply } from '../../src/ports/chat';
import { actionEvent, blockActionsSchema, commandEvent, slashCommandSchema, type Translated } from './payloads';
import { replyMessage } from './messages';

// The transport-neutral inbound side: HTTP and Socket Mode both hand over a parsed body and an ack function.
// Every delivery is acknowledged at once (Slack allows 3 s); the core is called afterwards and its Reply goes
// to the person who acted, ephemerally, through the delivery's response_url. No request logic here.

/** One delivery from Slack, whichever transport carried it. */
export interface SlackDelivery {
  body: unknown;
  /** Slack's redelivery counter (X-Slack-Retry-Num / retry_attempt); the derived delivery id does not change. */
  retryNum?: number;
  /** Answers Slack; must be called exactly once, before the 3-second deadline. */
  ack(response?: Record<string, unknown>): Promise<void>;
}

export const NOT_READY_TEXT = 'jitbot is still starting; try again in a moment.';
export const HANDLER_FAILED_TEXT = 'jitbot could not process this; the details are in its log.';

export interface SlackInboundOptions {
  logger: HttpLogger;
  /** Display name for a user (cached look-up); undefined when unknown. */
  displayName(userId: string): Promise<string | undefined>;
  /** POSTs a message to a response_url. */
  respond(responseUrl: string, message: Record<string, unknown>): Promise<void>;
}

export class SlackInbound {
  private handler: InboundHandler | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: SlackInboundOptions) {}

  setHandler(handler: InboundHandler | undefined): void {
    this.handler = handler;
  }

  /** Resolves once the delivery is acknowledged; the core's work continues in the background (see idle()). */
  async receive(delivery: SlackDelivery): Promise<void> {
    const body = delivery.body as { type?: unknown; command?: unknown; challenge?: unknown } | null;
    if (body && body.type === 'url_verification' && typeof body.challenge === 'string') {
      await delivery.ack({ challenge: body.challenge });
      return;
    }
    const translated = this.translate(body);
    await delivery.ack();
    if (!translated) return;
    if (delivery.retryNum !== undefined) {
      this.options.logger.info({ deliveryId: translated.event.deliveryId, retryNum: delivery.retryNum }, 'slack redelivery');
    }
    this.track(this.dispatch(translated));
  }

  /** Resolves when every delivery received so far has been handled and answered. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private translate(body: unknown): Translated<InboundEvent> | undefined {
    const shape = body as { type?: unknown; command?: unknown } | null;
    if (shape && typeof shape.command === 'string') {
      const command = slashCommandSchema.safeParse(body);
      if (command.success) return commandEvent(command.data);
      this.options.logger.warn({ issues: command.error.issues.length }, 'unreadable slack slash command ignored');
      return undefined;
    }
    if (shape && shape.type === 'block_actions') {
      const actions = blockActionsSchema.safeParse(body);
      if (actions.success) return actionEvent(actions.data);
      this.options.logger.warn({ issues: actions.error.issues.length }, 'unreadable slack block_actions ignored');
    }
    // Events, other interactions: acknowledged and otherwise ignored.
    return undefined;
  }

  private async dispatch({ event, responseUrl }: Translated<InboundEvent>): Promise<void> {
    const handler = this.handler;
    if (!handler) {
      await this.answer(responseUrl, { kind: 'error', text: NOT_READY_TEXT });
      return;
    }
    let reply: Reply;
    try {
      const displayName = await this.options.displayName(event.actor.userId).catch(() => undefined);
      reply = await handler(displayName ? { ...event, actor: { ...event.actor, displayName } } : event);
    } catch (error) {
      this.options.logger.error({ err: error, deliveryId: event.deliveryId }, 'slack event handler failed');
      reply = { kind: 'error', text: HANDLER_FAILED_TEXT };
    }
    await this.answer(responseUrl, reply);
  }

  private async answer(responseUrl: string, reply: Reply): Promise<void> {
    if (reply.kind === 'none' || !reply.text) return;
    try {
      await this.options.respond(responseUrl, { response_type: 'ephemeral', replace_original: false, ...replyMessage(reply.text) });
    } catch (error) {
      // The response_url is a credential for 30 minutes: never logged.
      this.options.logger.warn({ err: describe(error) }, 'could not answer through the slack response_url');
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
