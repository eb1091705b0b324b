import type { Logger } from 'pino';
import { canonicalJson, type AuditInput } from '../core/audit-chain';
import { t, type Locale } from '../core/i18n/catalog';
import { markActive, markFailed, noteIamFailure, recordFollowUp, recordRevocation } from '../core/iam-outcomes';
import { parseMemberRef } from '../core/identity';
import type { Effect, JitRequest, MessageRef, UserRef } from '../core/model';
import { completeEffects, failEffect, recordCard } from '../core/outbox-bookkeeping';
import type { TransitionContext, TransitionResult } from '../core/transitions';
import { ChatRefused, type SendOptions } from '../ports/chat';
import type { Clock } from '../ports/clock';
import { GrantRefused, type Granter } from '../ports/granter';
import type { Store } from '../ports/store';
import { Limiter } from '../core/limiter';
import type { AdapterRegistry } from './adapter-registry';
import type { ChannelRoles } from './channel-roles';
import { describeIamFailure } from './iam-failure';
import { logLifecycle } from './lifecycle-log';
import { updateRequest } from './update-request';
import { holdLease } from '../store/leases';

export interface OutboxDeps {
  store: Store;
  granter: Granter;
  adapters: AdapterRegistry;
  channelRoles: ChannelRoles;
  clock: Clock;
  logger: Logger;
  locale: Locale;
  timeZone: string;
  /** Tries per effect before it is abandoned (grants then fail the request; revokes alert the admins and go on). */
  maxAttempts?: number;
  /** Who is alerted when access cannot be removed: `platform:userId` (direct message) or email (log only). */
  admins?: readonly string[];
  /** Identifies this replica in leases. */
  owner: string;
  /** How many requests' outboxes are worked on at once (default 8); the others wait their turn. */
  concurrency?: number;
}

/**
 * Enough to keep the chat APIs and IAM busy; few enough that a burst of approvals does not take the CPU the next
 * acknowledgements need (an acknowledged event's effects can wait a moment, a platform's 3 s deadline cannot).
 */
export const DEFAULT_OUTBOX_CONCURRENCY = 8;

/** Folds an effect's outcome into the freshest stored version of its request. */
type Fold = (fresh: JitRequest, ctx: TransitionContext) => JitRequest;
/** With effectRetryDelay's back-off, about 50 minutes of retries before an effect is given up (revokes go on). */
const DEFAULT_MAX_ATTEMPTS = 12;
/** How far back an audit effect left by a crashed run is looked for before it is appended. */
const RECENT_AUDIT_CHECKED = 500;

/**
 * Performs the side effects queued in a request's outbox, oldest first, one at a time: the effect runs,
 * then a compare-and-set write removes it (and records what it produced). A crash between the two
 * repeats the effect on recovery, so every effect is written to be safe to repeat.
 */
export class OutboxWorker {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly limiter: Limiter;

  /** Effects queued before this run may have been performed by a run that crashed before removing them. */
  private readonly startedAt: number;
  /** Audit effects (requestId#effectId) queued before this run started: appended only if not there yet. */
  private readonly inherited = new Set<string>();

  constructor(private readonly deps: OutboxDeps) {
    this.startedAt = deps.clock.now();
    this.limiter = new Limiter(deps.concurrency ?? DEFAULT_OUTBOX_CONCURRENCY);
  }

  /** Process a request's outbox soon; concurrent kicks for one request are coalesced. */
  kick(requestId: string): void {
    void this.drain(requestId);
  }

  drain(requestId: string): Promise<void> {
    const current = this.running.get(requestId);
    if (current !== undefined) {
      this.again.add(requestId);
      return current;
    }
    const run = this.limiter.run(async () => {
      try {
        do {
          this.again.delete(requestId);
          await this.drainOnce(requestId);
        } while (this.again.has(requestId));
      } catch (error) {
        this.deps.logger.error(
          { err: error, requestId },
          'outbox processing failed; will retry on the next recovery pass',
        );
      } finally {
        this.running.delete(requestId);
      }
    });
    this.running.set(requestId, run);
    return run;
  }

  /** Completes effects left behind (e.g. by a crash or an adapter outage). */
  async recover(limit = 100): Promise<number> {
    const pending = await this.deps.store.listWithPendingEffects(limit);
    await Promise.all(pending.map((request) => this.drain(request.id)));
    return pending.length;
  }

  /** Resolves when nothing is in flight (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  private async drainOnce(requestId: string): Promise<void> {
    const { store, clock, owner, logger } = this.deps;
    const lease = await holdLease({ store, clock, logger }, `outbox#${requestId}`, owner);
    if (!lease) return;
    try {
      for (;;) {
        const request = await store.getRequest(requestId);
        const effect = request?.outbox[0];
        // Effects run in order: one waiting for its retry holds back those after it (notices about it are queued
        // ahead of it). A failed effect is rescheduled, so the loop stops there; the recovery pass retries it.
        if (!request || !effect || (effect.retryAt !== undefined && effect.retryAt > clock.now())) return;
        this.noteInherited(request);
        const fold = await this.perform(request, effect);
        const saved = await this.commit(requestId, effect.id, fold);
        if (!saved) return;
        this.logOutcome(effect, saved);
      }
    } finally {
      await lease.release();
    }
  }

  /** Runs one effect; returns how to fold its outcome into the (possibly newer) stored request. */
  private async perform(request: JitRequest, effect: Effect): Promise<Fold> {
    try {
      return await this.run(request, effect);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, requestId: request.id, effect: effect.kind, attempt: (effect.attempts ?? 0) + 1 },
        'effect failed',
      );
      return this.failure(effect, error);
    }
  }

  private async run(request: JitRequest, effect: Effect): Promise<Fold> {
    const done: Fold = (fresh, ctx) => completeEffects(fresh, [effect.id], ctx);
    // A retry of this effect is the same delivery; any other effect (even with the same text) is another.
    const send = { idempotencyKey: `${request.id}/${effect.id}` };
    switch (effect.kind) {
      case 'postCard':
        return await this.postCards(request, effect);
      case 'updateCards':
        await this.deps.adapters.redrawCards(request, request.cards);
        return done;
      case 'threadReply':
        await this.replyUnderCards(request, effect.text, send);
        return done;
      case 'notifyRequester':
        // The request's origin is where the requester was last seen (Teams needs it for a proactive message).
        await this.deps.adapters
          .require(request.requester.platform)
          .notifyUser(request.requester, effect.text, request.origin, send);
        return done;
      case 'notifyPeople':
        await Promise.all(effect.people.map((person) => this.notifyApprover(request, person, effect.text, send)));
        return done;
      case 'alertAdmins':
        await this.alertAdmins(request, effect.text, send);
        return done;
      case 'audit': {
        const event = { ...effect.event, at: this.deps.clock.now(), requestId: request.id };
        // Left by an earlier run, it may have been appended just before that run died: not twice.
        if (this.inherited.delete(`${request.id}#${effect.id}`) && (await this.alreadyAudited(event))) return done;
        await this.deps.store.appendAudit(event);
        return done;
      }
      case 'grant':
        return await this.grant(request, effect);
      case 'revoke': {
        const result = await this.deps.granter.revoke(request);
        return (fresh, ctx) => recordRevocation(fresh, effect.id, result.sessionsTerminated, ctx);
      }
      case 'terminateSessions': {
        const ended = await this.deps.granter.terminateSessions(request);
        return (fresh, ctx) => recordFollowUp(fresh, effect.id, ended, ctx);
      }
    }
  }

  /** Remembers the audit effects a request carried over from before this run. */
  private noteInherited(request: JitRequest): void {
    if (request.updatedAt >= this.startedAt) return;
    for (const effect of request.outbox) if (effect.kind === 'audit') this.inherited.add(`${request.id}#${effect.id}`);
  }

  /** Whether the newest audit events hold this one already (all but its time). */
  private async alreadyAudited(event: AuditInput): Promise<boolean> {
    const sameContent = (e: AuditInput) => canonicalJson({ ...e, at: 0 }) === canonicalJson({ ...event, at: 0 });
    const newest = await this.deps.store.listAudit({ newestFirst: true, limit: RECENT_AUDIT_CHECKED });
    return newest.some(({ seq: _seq, hash: _hash, prevHash: _prevHash, ...stored }) => sameContent(stored));
  }

  /**
   * Each card's thread gets the reply; on a platform without threads it is a plain message in the card's channel
   * that quotes the request id and mentions the requester. A channel that refuses it for good is skipped.
   */
  private async replyUnderCards(request: JitRequest, text: string, send: SendOptions): Promise<void> {
    const { adapters } = this.deps;
    await Promise.all(
      request.cards.map(async (card) => {
        const adapter = adapters.require(card.platform);
        const reply = adapter.capabilities.threads
          ? adapter.replyInThread(card, text, send)
          : adapter.postMessage(card, this.quotingRequest(request, text), {
              ...send,
              // A person can only be mentioned on their own platform.
              ...(request.requester.platform === card.platform && { mention: request.requester }),
            });
        await reply.catch((error: unknown) =>
          adapters.unlessRefused(error, { requestId: request.id, platform: card.platform }, 'reply refused'),
        );
      }),
    );
  }

  private quotingRequest(request: JitRequest, text: string): string {
    return text.includes(request.id) ? text : t(this.deps.locale, 'thread.unthreaded', { id: request.id, text });
  }

  /** An approver was last seen in the request's card channel on their platform (where they clicked). */
  private notifyApprover(request: JitRequest, person: UserRef, text: string, send: SendOptions): Promise<void> {
    const card = request.cards.find((c) => c.platform === person.platform);
    const lastSeenIn = card && { platform: card.platform, channelId: card.channelId };
    return this.deps.adapters.require(person.platform).notifyUser(person, text, lastSeenIn, send);
  }

  /**
   * Counts the failed try. Grants and revokes say on the card and in the thread that IAM has not accepted them yet
   * (a grant that keeps failing fails the request; a revoke keeps trying and alerts the admins); other effects are
   * retried, then abandoned and audited. A ChatRefused cannot succeed later, so its effect is abandoned at once.
   */
  private failure(effect: Effect, error: unknown): Fold {
    const max = this.deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (effect.kind === 'grant' || effect.kind === 'revoke') {
      const failure = { problem: describeIamFailure(error), permanent: error instanceof GrantRefused };
      return (fresh, ctx) => noteIamFailure(fresh, effect.id, failure, max, ctx);
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ChatRefused) return (fresh, ctx) => failEffect(fresh, effect.id, message, 0, ctx);
    return (fresh, ctx) => failEffect(fresh, effect.id, message, max, ctx);
  }

  /** Access could not be removed: an error-level log line for operators, and a direct message to each admin. */
  private async alertAdmins(request: JitRequest, text: string, send: SendOptions): Promise<void> {
    const { logger, adapters } = this.deps;
    const admins = this.deps.admins ?? [];
    logger.error({ requestId: request.id, node: request.target.id, admins }, text);
    const reachable = admins.flatMap((admin) => {
      const ref = parseMemberRef(admin);
      return ref?.kind === 'user' && adapters.get(ref.platform)
        ? [{ platform: ref.platform, userId: ref.userId, displayName: ref.userId }]
        : [];
    });
    const sent = await Promise.allSettled(
      reachable.map((admin) => adapters.require(admin.platform).notifyUser(admin, text, undefined, send)),
    );
    const failed = sent.filter((result) => result.status === 'rejected');
    if (reachable.length > 0 && failed.length === reachable.length)
      throw new Error(`could not alert any of ${reachable.length} admin(s)`);
    if (failed.length > 0 || reachable.length < admins.length) {
      logger.warn(
        { requestId: request.id, unreachable: admins.length - reachable.length + failed.length },
        'some admins could not be alerted by direct message',
      );
    }
  }

  /** The lifecycle line for a grant or revoke that reached its outcome. */
  private logOutcome(effect: Effect, saved: JitRequest): void {
    const outcome =
      effect.kind === 'grant' && (saved.status === 'active' || saved.status === 'failed')
        ? saved.status
        : effect.kind === 'revoke' && (saved.status === 'revoked' || saved.status === 'ended')
          ? saved.status
          : undefined;
    if (!outcome) return;
    logLifecycle(this.deps.logger, effect.kind === 'grant' ? 'grant' : 'revoke', {
      requestId: saved.id,
      actor: 'jitbot',
      node: saved.target.id,
      outcome,
    });
  }

  private async postCards(request: JitRequest, effect: Effect): Promise<Fold> {
    const level = request.levels[request.currentLevel];
    const channels = level ? await this.deps.channelRoles.channelsFor(level.roles) : [];
    if (level && channels.length === 0) {
      this.deps.logger.error(
        { requestId: request.id, roles: level.roles },
        'no chat channel speaks for the open level; map one with /jit admin map-channel',
      );
    }
    const posted: MessageRef[] = [];
    const cardIn = await this.deps.adapters.cardDrawer(request);
    for (const channel of channels) {
      if (request.cards.some((c) => c.platform === channel.platform && c.channelId === channel.channelId)) continue;
      const adapter = this.deps.adapters.get(channel.platform);
      if (!adapter) continue;
      try {
        posted.push(await adapter.postCard(channel, cardIn(channel)));
      } catch (error) {
        // One channel the bot cannot post in must not keep the card from the others.
        this.deps.adapters.unlessRefused(
          error,
          { requestId: request.id, platform: channel.platform, channel: channel.channelId },
          'card post refused',
        );
      }
    }
    return (fresh, ctx) => {
      let next = fresh;
      for (const card of posted) next = recordCard(next, card, ctx);
      return completeEffects(next, [effect.id], ctx);
    };
  }

  private async grant(request: JitRequest, effect: Effect): Promise<Fold> {
    const startsAt = this.deps.clock.now();
    try {
      const grant = await this.deps.granter.grant(request, startsAt, startsAt + request.durationMs);
      return (fresh, ctx) => settle(markActive(fresh, grant, effect.id, ctx), fresh, effect.id, ctx);
    } catch (error) {
      if (!(error instanceof GrantRefused)) throw error;
      return (fresh, ctx) => settle(markFailed(fresh, error.message, effect.id, ctx), fresh, effect.id, ctx);
    }
  }

  /** Writes the effect's outcome with compare-and-set, re-deciding on conflict. Undefined if the effect vanished. */
  private async commit(requestId: string, effectId: string, fold: Fold): Promise<JitRequest | undefined> {
    const outcome = await updateRequest(this.deps.store, requestId, (fresh) => {
      if (!fresh.outbox.some((e) => e.id === effectId)) return { skip: true };
      const folded = fold(fresh, this.context());
      return folded === fresh ? { skip: true } : { next: folded };
    });
    if (outcome.kind === 'contended')
      throw new Error(`could not record effect ${effectId} of ${requestId}: too much contention`);
    return outcome.kind === 'saved' ? outcome.request : undefined;
  }

  private context(): TransitionContext {
    return { now: this.deps.clock.now(), locale: this.deps.locale, timeZone: this.deps.timeZone };
  }
}

/** A transition that cannot apply any more (someone else moved the request on) just drops the effect. */
function settle(result: TransitionResult, fresh: JitRequest, effectId: string, ctx: TransitionContext): JitRequest {
  return result.ok ? result.request : completeEffects(fresh, [effectId], ctx);
}
