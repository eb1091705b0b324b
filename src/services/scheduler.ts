import type { Logger } from 'pino';
import type { Locale } from '../core/i18n/catalog';
import type { JitRequest } from '../core/model';
import {
  expire,
  followUpSessions,
  remind,
  timeOut,
  warnExpiry,
  type TransitionContext,
  type TransitionResult,
} from '../core/transitions';
import { logLifecycle } from './lifecycle-log';
import { updateRequest } from './update-request';
import type { Clock } from '../ports/clock';
import type { Store } from '../ports/store';
import { holdLease } from '../store/leases';

export interface SchedulerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  locale: Locale;
  timeZone: string;
  owner: string;
  onCommitted: (requestId: string) => void;
  /** Largest batch read from the due index per pass. */
  batchSize?: number;
}

const SWEEP_LEASE = 'sweeper';
const HOUR = 3_600_000;

/** Deadline-driven transitions, tried in this order on each due request. */
const PENDING_STEPS = [timeOut, remind];
const ACTIVE_STEPS = [expire, warnExpiry];
const CLEANUP_STEPS = [followUpSessions];

/**
 * Finds what is due through the store's sparse "due" index (never a scan) and applies time-outs,
 * reminders, expiry warnings and expiries. One replica sweeps at a time (lease); the work is idempotent
 * anyway because every write is compare-and-set and re-decided on fresh state.
 */
export class Scheduler {
  private nextAuditPruneAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: SchedulerDeps) {}

  /** One pass. Returns how many requests changed. */
  async sweep(): Promise<number> {
    const { store, clock, owner, logger } = this.deps;
    const lease = await holdLease({ store, clock, logger }, SWEEP_LEASE, owner);
    if (!lease) return 0;
    try {
      const now = clock.now();
      await this.pruneAuditHourly(now);
      const limit = this.deps.batchSize ?? 100;
      const [pending, active, cleanup] = await Promise.all([
        store.listDue('pending', now, limit),
        store.listDue('active', now, limit),
        store.listDue('cleanup', now, limit),
      ]);
      let changed = 0;
      for (const request of pending) changed += (await this.apply(request.id, PENDING_STEPS)) ? 1 : 0;
      for (const request of active) changed += (await this.apply(request.id, ACTIVE_STEPS)) ? 1 : 0;
      for (const request of cleanup) changed += (await this.apply(request.id, CLEANUP_STEPS)) ? 1 : 0;
      return changed;
    } finally {
      await lease.release();
    }
  }

  /** Audit retention: the store deletes events older than the retention period and records the pruning point. */
  private async pruneAuditHourly(now: number): Promise<void> {
    if (now < this.nextAuditPruneAt) return;
    this.nextAuditPruneAt = now + HOUR;
    try {
      const pruned = await this.deps.store.pruneAudit(now);
      if (pruned > 0) this.deps.logger.info({ pruned }, 'pruned audit events older than the retention period');
    } catch (error) {
      // Retention can wait for the next hour; the sweep's deadlines cannot.
      this.deps.logger.error({ err: error }, 'audit pruning failed; retried in an hour');
    }
  }

  private async apply(
    requestId: string,
    steps: ((request: JitRequest, ctx: TransitionContext) => TransitionResult)[],
  ): Promise<boolean> {
    const outcome = await updateRequest(this.deps.store, requestId, (fresh) => {
      const ctx = this.context();
      for (const step of steps) {
        const result = step(fresh, ctx);
        if (result.ok) return { next: result.request };
      }
      return { skip: true };
    });
    if (outcome.kind === 'contended') {
      this.deps.logger.warn({ requestId }, 'scheduler gave up after repeated write conflicts; next pass retries');
      return false;
    }
    if (outcome.kind !== 'saved') return false;
    if (outcome.previous.status === 'active' && outcome.request.status === 'revoking') {
      logLifecycle(this.deps.logger, 'revoke', {
        requestId,
        actor: 'jitbot',
        node: outcome.request.target.id,
        outcome: 'expired',
      });
    }
    this.deps.onCommitted(requestId);
    return true;
  }

  private context(): TransitionContext {
    return { now: this.deps.clock.now(), locale: this.deps.locale, timeZone: this.deps.timeZone };
  }
}
