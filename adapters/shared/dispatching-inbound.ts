import type { InboundContext, InboundEvent, InboundHandler } from '../../src/ports/chat';
import { InboundDispatcher, type InboundDispatcherOptions } from './inbound-dispatcher';

/**
 * An adapter's inbound side: it owns one InboundDispatcher, hands it the platform's deliveries (the subclass's
 * own methods) and passes start, stop and idle straight on to it.
 */
export abstract class DispatchingInbound {
  protected readonly dispatcher: InboundDispatcher;

  protected constructor(options: InboundDispatcherOptions) {
    this.dispatcher = new InboundDispatcher(options);
  }

  start(handler: InboundHandler, context: InboundContext): void {
    this.dispatcher.start(handler, context);
  }

  /** Waits for work in flight, then stops handing events over. */
  stop(): Promise<void> {
    return this.dispatcher.stop();
  }

  /** Resolves when every delivery received so far has been handled and answered. */
  idle(): Promise<void> {
    return this.dispatcher.idle();
  }
}

/**
 * An `enrich` for the dispatcher: the actor gets the name `displayName` looks up. A look-up that fails or knows
 * no name leaves the event as the platform sent it.
 */
export function withDisplayName(
  displayName: (userId: string) => Promise<string | undefined>,
): (event: InboundEvent) => Promise<InboundEvent> {
  return async (event) => {
    const name = await displayName(event.actor.userId).catch(() => undefined);
    return name ? { ...event, actor: { ...event.actor, displayName: name } } : event;
  };
}
