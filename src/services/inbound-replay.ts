import type { Logger } from 'pino';
import { matchLocale, type Locale } from '../core/i18n/catalog';
import { formatDuration } from '../core/duration';
import { excerpt, personKey } from '../core/labels';
import type { InboundEvent, Reply } from '../ports/chat';
import type { Clock } from '../ports/clock';
import type { StoredInboundEvent, Store } from '../ports/store';
import type { AdapterRegistry } from './adapter-registry';
import { Messages } from './messages';

// Replays the inbound events a crash left stored but unprocessed, with two guards. An event older than the maximum
// replay age is dropped, not applied late (an Approve from yesterday must not grant access today). An event whose
// processing kills the process would otherwise be replayed, and crash jitbot, at every start: its replay attempts
// are counted in a durable record before each one, and after MAX_REPLAY_ATTEMPTS it is given up.

/** Inbound events replayed per store read. */
const REPLAY_BATCH = 50;
/** How long one replica may take to replay one event before another may try it. */
const REPLAY_LEASE_MS = 60_000;
/** Replays of one event that may end in a crash before it is given up. */
export const MAX_REPLAY_ATTEMPTS = 3;
/** Durable records counting the replay attempts of an event, keyed by `deliveryKey`. */
export const REPLAY_ATTEMPTS_NAMESPACE = 'inbound-replay-attempts';
/** What a person typed is cut to this many code points before it is quoted back to them. */
const QUOTE_LENGTH = 100;

export interface InboundReplayDeps {
  store: Store;
  clock: Clock;
  adapters: AdapterRegistry;
  /** Identifies this replica in the replay leases. */
  owner: string;
  logger: Logger;
  /** The workspace's locale (for people whose platform does not say theirs) and time zone. */
  locale: Locale;
  timeZone: string;
  /** An event older than this when its replay comes is dropped instead of processed. */
  maxAgeMs: number;
  /** Admins the person is pointed to when their event is given up. */
  admins: readonly string[];
  /** Processes an event as a replay (finding its own change already saved is success). */
  process(event: InboundEvent): Promise<Reply>;
  /** Marks an event processed (best effort: failing is logged). */
  markProcessed(event: InboundEvent): Promise<void>;
  /** Whether the event is being processed in this process right now (a replay leaves it alone). */
  inFlight(event: InboundEvent): boolean;
}

interface AttemptCount {
  /** Replays begun, counted before each one. */
  attempts: number;
}

export class InboundReplay {
  private readonly messages: Messages;

  constructor(private readonly deps: InboundReplayDeps) {
    this.messages = new Messages(deps.locale, deps.timeZone);
  }

  /**
   * Processes the inbound events a crash left stored but unprocessed (received, perhaps acknowledged, never
   * answered), oldest first, each under a lease so two replicas do not replay the same one. Only events received
   * before `receivedBefore` are taken: younger ones may still be in flight on another replica (those in flight
   * here are skipped anyway). Their answers go to the person by DM (the platform's reply channel is gone).
   * Events too old, or whose replays kept failing, are dropped instead, and the person is told. Returns how many
   * were replayed.
   */
  async run(options: { receivedBefore: number }): Promise<number> {
    const { store, clock, owner } = this.deps;
    const tried = new Set<string>();
    let replayed = 0;
    for (;;) {
      const batch = await store.listUnprocessedInboundEvents(REPLAY_BATCH);
      const due = batch.filter(
        ({ event, receivedAt }) =>
          receivedAt < options.receivedBefore && !tried.has(deliveryKey(event)) && !this.deps.inFlight(event),
      );
      if (due.length === 0) return replayed;
      for (const stored of due) {
        tried.add(deliveryKey(stored.event));
        const lease = `inbound#${deliveryKey(stored.event)}`;
        if (!(await store.acquireLease(lease, owner, clock.now(), REPLAY_LEASE_MS))) continue;
        try {
          if (await this.replayOne(stored)) replayed++;
        } finally {
          await store.releaseLease(lease, owner).catch(() => undefined);
        }
      }
      if (batch.length < REPLAY_BATCH) return replayed;
    }
  }

  /** True when the event was processed; false when it was dropped, given up, or is being counted elsewhere. */
  private async replayOne({ event, receivedAt }: StoredInboundEvent): Promise<boolean> {
    const { store, clock, logger } = this.deps;
    if (clock.now() - receivedAt > this.deps.maxAgeMs) {
      await this.expire(event, receivedAt);
      return false;
    }
    const attempt = await this.countAttempt(event);
    if (attempt === undefined) return false;
    if (attempt > MAX_REPLAY_ATTEMPTS) {
      await this.abandon(event, receivedAt);
      return false;
    }
    logger.info(
      { platform: event.platform, deliveryId: event.deliveryId, kind: event.kind, attempt },
      'replaying an inbound event a restart interrupted',
    );
    const reply = await this.deps.process(event);
    await this.answer(event, receivedAt, reply);
    await this.deps.markProcessed(event);
    await store.deleteRecord(REPLAY_ATTEMPTS_NAMESPACE, deliveryKey(event)).catch((error: unknown) => {
      logger.warn({ err: error, ref: ref(event) }, 'could not delete the replay attempt count of a processed event');
    });
    return true;
  }

  /**
   * Counts one more replay of the event, durably and before it runs (a crash during it must still count). Returns
   * the attempt this is (1 for the first replay); past MAX_REPLAY_ATTEMPTS nothing is written. Undefined when the
   * count changed under us (another replica is at it).
   */
  private async countAttempt(event: InboundEvent): Promise<number | undefined> {
    const { store, clock } = this.deps;
    const key = deliveryKey(event);
    const record = await store.getRecord(REPLAY_ATTEMPTS_NAMESPACE, key);
    const before = attemptsIn(record?.value);
    if (before >= MAX_REPLAY_ATTEMPTS) return before + 1;
    const count: AttemptCount & { at: number } = { attempts: before + 1, at: clock.now() };
    const counted = await store.putRecord(REPLAY_ATTEMPTS_NAMESPACE, { key, value: count }, record?.version ?? 0);
    return counted ? before + 1 : undefined;
  }

  /** Drops an event received longer ago than the maximum replay age, and tells the person. */
  private async expire(event: InboundEvent, receivedAt: number): Promise<void> {
    const { clock, logger, maxAgeMs } = this.deps;
    if (!(await this.closeOut(event))) return;
    const ageMs = clock.now() - receivedAt;
    const facts = { ...describe(event), receivedAt, ageMs, maxAgeMs };
    logger.warn(facts, 'dropped an inbound event too old to replay; the person is told to send it again');
    await this.audit(event, 'inbound.expired', facts);
    const messages = this.messagesFor(event);
    const dropped = messages.say('inbound.expired', {
      what: this.what(event, messages),
      time: messages.time(receivedAt),
      maxAge: formatDuration(maxAgeMs),
    });
    await this.tell(event, `${dropped} ${await this.whatNow(event, messages)}`);
  }

  /** Gives up an event whose replays kept failing (each may have crashed jitbot), and tells the person. */
  private async abandon(event: InboundEvent, receivedAt: number): Promise<void> {
    const { logger } = this.deps;
    if (!(await this.closeOut(event))) return;
    const facts = { ...describe(event), receivedAt, attempts: MAX_REPLAY_ATTEMPTS };
    logger.error(
      facts,
      `gave up an inbound event after ${MAX_REPLAY_ATTEMPTS} replays that did not finish (each may have crashed jitbot)`,
    );
    await this.audit(event, 'inbound.abandoned', facts);
    const messages = this.messagesFor(event);
    await this.tell(
      event,
      messages.say('inbound.abandoned', {
        what: this.what(event, messages),
        time: messages.time(receivedAt),
        attempts: MAX_REPLAY_ATTEMPTS,
        admins: this.deps.admins.join(', ') || '—',
        ref: ref(event),
      }),
    );
  }

  /**
   * Marks a dropped event processed (compare-and-set: false when another replica already did, and then that one
   * tells the person) and forgets its attempt count.
   */
  private async closeOut(event: InboundEvent): Promise<boolean> {
    const { store, logger } = this.deps;
    if (!(await store.markInboundEventProcessed(event.platform, event.deliveryId))) return false;
    await store.deleteRecord(REPLAY_ATTEMPTS_NAMESPACE, deliveryKey(event)).catch((error: unknown) => {
      logger.warn({ err: error, ref: ref(event) }, 'could not delete the replay attempt count of a dropped event');
    });
    return true;
  }

  private async audit(event: InboundEvent, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.deps.store
      .appendAudit({
        at: this.deps.clock.now(),
        actor: personKey(event.actor),
        action,
        deliveryId: event.deliveryId,
        ...(event.kind === 'action' && { requestId: event.requestId }),
        detail,
      })
      .catch((error: unknown) => {
        // The event is already marked processed: the log line above and this one are what is left of it.
        this.deps.logger.error({ err: error, ...detail, action }, 'could not audit a dropped inbound event');
      });
  }

  /** What the person sent, in words: the button and request of a click, or (quoted) the command they typed. */
  private what(event: InboundEvent, messages: Messages): string {
    if (event.kind === 'action') {
      return messages.say('inbound.what_click', {
        action: messages.say(`card.action.${event.action}`),
        id: event.requestId,
      });
    }
    return messages.say('inbound.what_command', { command: excerpt(event.text.trim(), QUOTE_LENGTH) });
  }

  /**
   * After a dropped event: send it again if still meant; for a click on a request that has since moved on
   * (timed out, decided, ended), what the request-level refusal would say instead, as a fresh click would get it.
   */
  private async whatNow(event: InboundEvent, messages: Messages): Promise<string> {
    if (event.kind === 'command') return messages.say('inbound.expired_again_command');
    const request = await this.deps.store.getRequest(event.requestId).catch(() => undefined);
    if (request) {
      const status = messages.say(`status.${request.status}`);
      if (event.action === 'revoke' && request.status !== 'active')
        return messages.say('revoke.not_active', { id: request.id, status });
      if (event.action !== 'revoke' && request.status !== 'pending')
        return messages.say('decision.not_pending', { id: request.id, status });
    }
    return messages.say('inbound.expired_again_click');
  }

  private async answer(event: InboundEvent, receivedAt: number, reply: Reply): Promise<void> {
    if (reply.kind === 'none' || !reply.text) return;
    await this.tell(
      event,
      this.messages.say('inbound.replayed', { time: this.messages.time(receivedAt), text: reply.text }),
    );
  }

  /** A DM to the person who sent the event (the platform's reply channel is gone); best effort. */
  private async tell(event: InboundEvent, text: string): Promise<void> {
    const adapter = this.deps.adapters.get(event.platform);
    if (!adapter) return;
    await adapter.notifyUser(event.actor, text, event.channel).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, platform: event.platform }, 'could not send the answer to a replayed event');
    });
  }

  /** Messages in the person's language when their platform says it, else the workspace's. */
  private messagesFor(event: InboundEvent): Messages {
    const locale = matchLocale(event.locale);
    return locale && locale !== this.deps.locale ? new Messages(locale, this.deps.timeZone) : this.messages;
  }
}

export function deliveryKey(event: InboundEvent): string {
  return `${event.platform}#${event.deliveryId}`;
}

/** What the log and the audit say about a dropped event: never the text typed or a comment. */
function describe(event: InboundEvent): Record<string, unknown> {
  return {
    platform: event.platform,
    kind: event.kind,
    deliveryId: event.deliveryId,
    ...(event.kind === 'action' && { requestId: event.requestId, action: event.action }),
  };
}

function attemptsIn(value: unknown): number {
  const attempts = (value as Partial<AttemptCount> | undefined)?.attempts;
  return typeof attempts === 'number' && Number.isInteger(attempts) && attempts > 0 ? attempts : 0;
}

function ref(event: InboundEvent): string {
  return event.deliveryId.slice(-8);
}
