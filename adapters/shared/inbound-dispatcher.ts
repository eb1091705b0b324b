import { matchLocale, t, type Locale, type MessageKey, type MessageParams } from '../../src/core/i18n/catalog';
import type { ChannelRef, Platform, UserRef } from '../../src/core/model';
import type {
  ChatCapabilities,
  InboundContext,
  InboundEvent,
  InboundHandler,
  InboundIntake,
  Reply,
} from '../../src/ports/chat';
import { Limiter } from '../../src/core/limiter';

// What every adapter's inbound side does, once: verify the delivery, translate it, keep a redelivery that arrives
// while the first is still being handled from running twice, hand the event to the core, and get the core's
// Reply to the person, in time for the platform and privately where it can. Adapters supply the
// platform-specific parts (verification, translation, the reply channel) per delivery.
//
// De-duplication has two layers. The core claims every delivery id durably (the store, shared by all replicas,
// released again when handling fails so a retry is processed). The dispatcher only joins a redelivery to work
// still in flight here, so it is answered once and, in answer-in-response mode, with the same answer.
//
// With the core's durable intake (`InboundContext.intake`), the claim is the event itself, stored before the
// platform is acknowledged: a crash after the ack loses nothing, the core replays it at start. The core's work
// then runs through a small limiter, so a burst queues work instead of delaying the acknowledgements.

export type Verification = { ok: true } | { ok: false; reason: string };

/** What a verified delivery means for jitbot. */
export type Translation =
  /** Hand this to the core. */
  | { kind: 'event'; event: InboundEvent }
  /** Answer the person with this message (an error), without involving the core. */
  | { kind: 'refuse'; event: InboundEvent; key: MessageKey; params?: MessageParams }
  /** A platform handshake (URL verification challenge): the transport sends `response` as the answer. */
  | { kind: 'handshake'; response: unknown }
  /** Nothing for jitbot (another app's button, an event it does not use): acknowledged and dropped. */
  | { kind: 'ignore'; why?: string }
  /** Malformed: the transport answers with this HTTP status (400, 415, …) and the error. */
  | { kind: 'invalid'; status: number; error: string };

interface Delivery {
  /**
   * Checks the delivery comes from the platform (signature, token, JWT). Runs first; nothing else runs unless it
   * holds. Omit only where the transport is authenticated already (Socket Mode, a long connection, loopback).
   */
  verify?(): Verification | Promise<Verification>;
  /** Runs once verified. Must be quick: in ack-then-answer mode it runs before the platform is answered. */
  translate(): Translation | Promise<Translation>;
  /** The platform's redelivery counter, when it sends one (logged). */
  retryNum?: number;
}

/** Slack's timing: an empty acknowledgement at once; the Reply follows through a reply channel. */
export interface AckThenAnswerDelivery extends Delivery {
  /** Shows the Reply to the person privately (Slack: POST to the response_url). */
  answer(reply: Reply, event: InboundEvent): Promise<void>;
}

/** Feishu, Teams, DingTalk card callbacks: the Reply (and the redrawn card) goes in the response to the delivery. */
export interface AnswerInResponseDelivery extends Delivery {
  /** How long the core may take before the platform must be answered, e.g. 2 500 for a platform that waits 3 s. */
  deadlineMs: number;
  /**
   * Where a Reply that missed the deadline goes. Default: its text as a DM to the person (in the conversation
   * they were last seen in). The card needs nothing: the core redraws it on the platform anyway.
   */
  late?(reply: Reply, event: InboundEvent): Promise<void>;
}

/** Outcomes both modes share; the transport turns each into the platform's answer. */
export type EarlyOutcome =
  /** Verification failed: answer 401 (or the platform's equivalent); nothing was stored or handled. */
  | { outcome: 'refused'; reason: string }
  | { outcome: 'invalid'; status: number; error: string }
  | { outcome: 'handshake'; response: unknown }
  /** Answer with an empty acknowledgement. */
  | { outcome: 'ignored' };

export type AckThenAnswerOutcome =
  | EarlyOutcome
  /** Answer with an empty acknowledgement now; the Reply follows through `answer`. */
  | { outcome: 'acknowledged' };

export type AnswerInResponseOutcome =
  | EarlyOutcome
  /**
   * Put `reply` in the response (toast, invoke response, callback ack; `reply.card` when present). Its text is
   * already removed when the platform cannot show it privately: then it went to the person by DM.
   * `failed`: the core failed or is not running; `reply` says so in the person's language.
   * `intake`: what the durable intake did with the event (absent without one, or for a refusal).
   */
  | { outcome: 'answered'; reply: Reply; failed: boolean; intake?: IntakeReceipt }
  /** The deadline passed: answer with `text` ("working…") or empty; the Reply follows through `late`. */
  | { outcome: 'pending'; text: string };

export interface InboundLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * What the durable intake did with an event: `stored` it, knew it already (`duplicate`), or could not store it
 * (`not-stored`: the store failed and the handler was given the event instead, so it may or may not be stored).
 * A platform that redelivers until acknowledged leaves a `not-stored` event un-acknowledged.
 */
export type IntakeReceipt = 'stored' | 'duplicate' | 'not-stored';

/** Starts a timer; returns a function that cancels it. */
export type StartTimer = (ms: number, fire: () => void) => () => void;

export interface InboundDispatcherOptions {
  platform: Platform;
  /** Which replies the platform can show privately; the rest go by DM. */
  capabilities: Pick<ChatCapabilities, 'privateClickReply' | 'privateCommandReply'>;
  logger: InboundLogger;
  /** The adapter's DM: replies it cannot show privately, and late replies. */
  notifyUser(user: UserRef, text: string, lastSeenIn: ChannelRef): Promise<void>;
  /** Fills in what the delivery lacks, after the platform is acknowledged (e.g. a display name look-up). */
  enrich?(event: InboundEvent): Promise<InboundEvent>;
  /** Deadline timers; tests pass a manual one. */
  startTimer?: StartTimer;
  /** How many events the core works on at once (default 8); the others wait, already acknowledged. */
  concurrency?: number;
}

/** Enough to keep the store and the chat APIs busy, few enough that acknowledgements never wait for CPU. */
export const DEFAULT_INBOUND_CONCURRENCY = 8;

interface Handled {
  reply: Reply;
  failed: boolean;
  /** What the durable intake did with the event, when there is one (`stored`: tell it once answered). */
  intake?: IntakeReceipt;
}

/** A delivery the core was given: `received` settles once it may be acknowledged, `handled` once answered. */
interface Begun {
  received: Promise<void>;
  handled: Promise<Handled>;
}

const realTimer: StartTimer = (ms, fire) => {
  const timer = setTimeout(fire, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/** What storing an event said: the intake's receipt, or `unclaimed` (no intake, a refusal, not started). */
type Receipt = IntakeReceipt | 'unclaimed';

export class InboundDispatcher {
  private handler: InboundHandler | undefined;
  private intake: InboundIntake | undefined;
  private locale: Locale = 'en';
  /** Deliveries being handled, by delivery id: a redelivery joins the work instead of starting it again. */
  private readonly handling = new Map<string, Promise<Handled>>();
  private readonly tracked = new Set<Promise<unknown>>();
  private readonly startTimer: StartTimer;
  private readonly limiter: Limiter;

  constructor(private readonly options: InboundDispatcherOptions) {
    this.startTimer = options.startTimer ?? realTimer;
    this.limiter = new Limiter(options.concurrency ?? DEFAULT_INBOUND_CONCURRENCY);
  }

  /** Events reach `handler` from now on; the context's locale is used for what the dispatcher itself says. */
  start(handler: InboundHandler, context: InboundContext): void {
    this.handler = handler;
    this.intake = context.intake;
    this.locale = context.locale;
  }

  /** Waits for work in flight, then stops handing events over ("still starting" until the next start). */
  async stop(): Promise<void> {
    await this.idle();
    this.handler = undefined;
    this.intake = undefined;
  }

  get ready(): boolean {
    return this.handler !== undefined;
  }

  /** Resolves when every delivery received so far has been handled and answered (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.tracked.size > 0) await Promise.all([...this.tracked]);
  }

  /** The message for `key` in the person's language (the platform's hint) or the workspace's. */
  say(event: Pick<InboundEvent, 'locale'> | undefined, key: MessageKey, params?: MessageParams): string {
    return t(matchLocale(event?.locale) ?? this.locale, key, params);
  }

  /** Acknowledge at once, answer later (Slack). Resolves as soon as the platform must be answered. */
  async ackThenAnswer(delivery: AckThenAnswerDelivery): Promise<AckThenAnswerOutcome> {
    const early = await this.verifyAndTranslate(delivery);
    if ('outcome' in early) return early;
    const { event } = early;
    const joined = this.handling.get(event.deliveryId);
    if (joined !== undefined) {
      this.options.logger.info(
        { platform: this.options.platform, deliveryId: event.deliveryId },
        'redelivery joined the delivery in flight',
      );
      return { outcome: 'acknowledged' };
    }
    const { received, handled } = this.handle(early);
    this.track(
      handled.then(async (result) => {
        await this.deliver(event, result.reply, (reply) => delivery.answer(reply, event));
        await this.answered(event, result);
      }),
    );
    // Acknowledged once the event is stored (durable intake), not once it is handled.
    await received;
    return { outcome: 'acknowledged' };
  }

  /**
   * Answer in the response, within `deadlineMs` (Feishu, Teams, DingTalk card callbacks). Resolves with the
   * Reply when the core answers in time, otherwise with `pending` when the deadline passes.
   */
  async answerInResponse(delivery: AnswerInResponseDelivery): Promise<AnswerInResponseOutcome> {
    const early = await this.verifyAndTranslate(delivery);
    if ('outcome' in early) return early;
    const { event } = early;
    const joined = this.handling.get(event.deliveryId);
    const handled = joined ?? this.handle(early).handled;
    const inTime = await this.within(handled, delivery.deadlineMs);
    if (!inTime) {
      // The first delivery delivers a late Reply; a redelivery that joined it must not do so a second time.
      if (!joined) {
        this.track(
          handled.then(async (result) => {
            await this.deliverLate(event, result.reply, delivery);
            await this.answered(event, result);
          }),
        );
      }
      return { outcome: 'pending', text: this.say(event, 'inbound.working') };
    }
    if (this.canShowPrivately(event) || !inTime.reply.text) {
      // The answer is in the response the transport sends now.
      if (!joined) this.track(this.answered(event, inTime));
      return { outcome: 'answered', ...inTime };
    }
    // The text goes by DM (once, even if a redelivery joined); the response keeps the card, if any.
    if (!joined) this.track(this.dm(event, inTime.reply.text).then(() => this.answered(event, inTime)));
    const { text: _sentByDm, ...rest } = inTime.reply;
    return {
      outcome: 'answered',
      reply: { ...rest, kind: rest.card ? rest.kind : 'none' },
      failed: inTime.failed,
      ...(inTime.intake && { intake: inTime.intake }),
    };
  }

  private async verifyAndTranslate(
    delivery: Delivery,
  ): Promise<EarlyOutcome | Extract<Translation, { kind: 'event' | 'refuse' }>> {
    const { platform, logger } = this.options;
    if (delivery.verify) {
      const verified = await delivery.verify();
      if (!verified.ok) {
        logger.warn({ platform, reason: verified.reason }, 'inbound request refused: verification failed');
        return { outcome: 'refused', reason: verified.reason };
      }
    }
    const translation = await delivery.translate();
    switch (translation.kind) {
      case 'handshake':
        return { outcome: 'handshake', response: translation.response };
      case 'ignore':
        return { outcome: 'ignored' };
      case 'invalid':
        logger.warn(
          { platform, status: translation.status, error: translation.error },
          'inbound request refused: invalid',
        );
        return { outcome: 'invalid', status: translation.status, error: translation.error };
      case 'event':
      case 'refuse':
        if (delivery.retryNum !== undefined) {
          logger.info(
            { platform, deliveryId: translation.event.deliveryId, retryNum: delivery.retryNum },
            'redelivery',
          );
        }
        return translation;
    }
  }

  /**
   * Gives one delivery to the core (never rejects: failures become a Reply in the person's language). With the
   * durable intake the event is stored first (`received`); the core's work then waits for a free slot.
   */
  private handle(translation: Extract<Translation, { kind: 'event' | 'refuse' }>): Begun {
    const { event } = translation;
    const received = translation.kind === 'event' ? this.receive(event) : Promise.resolve<Receipt>('unclaimed');
    const work = (async (): Promise<Handled> => {
      if (translation.kind === 'refuse') {
        return { reply: { kind: 'error', text: this.say(event, translation.key, translation.params) }, failed: false };
      }
      const receipt = await received;
      const intakeSaid = receipt === 'unclaimed' ? {} : { intake: receipt };
      if (receipt === 'duplicate') return { reply: { kind: 'none' }, failed: false, ...intakeSaid };
      const handler = this.handler;
      const intake = this.intake;
      if (!handler) return { reply: { kind: 'error', text: this.say(event, 'inbound.not_ready') }, failed: true };
      return this.limiter.run(async () => {
        try {
          const enriched = this.options.enrich ? await this.options.enrich(event).catch(() => event) : event;
          // A stored event is the intake's to process (and mark processed); otherwise the handler claims it.
          if (receipt === 'stored' && intake)
            return { reply: await intake.process(enriched), failed: false, ...intakeSaid };
          return { reply: await handler(enriched), failed: false, ...intakeSaid };
        } catch (error) {
          this.options.logger.error(
            { err: error, platform: this.options.platform, deliveryId: event.deliveryId },
            'inbound event handler failed',
          );
          return { reply: { kind: 'error', text: this.say(event, 'inbound.failed') }, failed: true, ...intakeSaid };
        }
      });
    })();
    this.handling.set(event.deliveryId, work);
    this.track(work.finally(() => this.handling.delete(event.deliveryId)));
    return { received: received.then(() => undefined), handled: work };
  }

  /**
   * Stores the event through the durable intake. A store that fails here must not cost the person their event:
   * it is handled the old way (the handler claims it), and if the store is really down that fails and says so.
   * The outcome says `not-stored`, so a platform that redelivers until acknowledged can withhold the ack.
   */
  private async receive(event: InboundEvent): Promise<Receipt> {
    const intake = this.intake;
    if (!intake || !this.handler) return 'unclaimed';
    try {
      return (await intake.receive(event)) ? 'stored' : 'duplicate';
    } catch (error) {
      this.options.logger.error(
        { err: error, platform: this.options.platform, deliveryId: event.deliveryId },
        'could not store an inbound event before acknowledging it',
      );
      return 'not-stored';
    }
  }

  /** Tells the durable intake the person has their answer (best effort: at worst the event is answered again). */
  private async answered(event: InboundEvent, handled: Handled): Promise<void> {
    // A stored event that failed is left unmarked, so it is replayed.
    if (handled.intake !== 'stored' || handled.failed || !this.intake) return;
    await this.intake.answered(event).catch((error: unknown) => {
      this.options.logger.warn(
        { platform: this.options.platform, deliveryId: event.deliveryId, err: describe(error) },
        'could not mark an inbound event answered',
      );
    });
  }

  /** The result, or undefined once `ms` have passed without one. */
  private async within(handled: Promise<Handled>, ms: number): Promise<Handled | undefined> {
    let cancel: () => void = () => undefined;
    const deadline = new Promise<undefined>((resolve) => {
      cancel = this.startTimer(ms, () => resolve(undefined));
    });
    try {
      return await Promise.race([handled, deadline]);
    } finally {
      cancel();
    }
  }

  /** Privately through the transport's reply channel where the platform can, else as a DM. */
  private async deliver(event: InboundEvent, reply: Reply, privately: (reply: Reply) => Promise<void>): Promise<void> {
    if (reply.kind === 'none' || !reply.text) return;
    if (!this.canShowPrivately(event)) return this.dm(event, reply.text);
    try {
      await privately(reply);
    } catch (error) {
      // Reply channels such as Slack's response_url are credentials: only the error's message is logged.
      this.options.logger.warn(
        { platform: this.options.platform, err: describe(error) },
        'could not answer the person',
      );
    }
  }

  private async deliverLate(event: InboundEvent, reply: Reply, delivery: AnswerInResponseDelivery): Promise<void> {
    if (!delivery.late) {
      if (reply.kind !== 'none' && reply.text) await this.dm(event, reply.text);
      return;
    }
    try {
      await delivery.late(reply, event);
    } catch (error) {
      this.options.logger.warn(
        { platform: this.options.platform, err: describe(error) },
        'could not deliver a late answer',
      );
    }
  }

  /** Sends `text` to the event's person by DM (in the conversation they acted in); a failure is logged, not thrown. */
  async dm(event: Pick<InboundEvent, 'actor' | 'channel'>, text: string): Promise<void> {
    try {
      await this.options.notifyUser(event.actor, text, event.channel);
    } catch (error) {
      this.options.logger.warn(
        { platform: this.options.platform, err: describe(error) },
        'could not send the answer by DM',
      );
    }
  }

  private canShowPrivately(event: InboundEvent): boolean {
    const { capabilities } = this.options;
    return event.kind === 'command' ? capabilities.privateCommandReply : capabilities.privateClickReply;
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined);
    this.tracked.add(settled);
    void settled.finally(() => this.tracked.delete(settled));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
