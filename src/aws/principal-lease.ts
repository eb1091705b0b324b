import type { Clock } from '../ports/clock';
import type { Store } from '../ports/store';
import { LEASE_TTL_MS, startHeartbeat } from '../store/leases';

// Serialises read-modify-write of one principal's jitbot policy across calls, processes and replicas: two
// approvals for the same person at the same moment would otherwise both read the old document and the second
// PutUserPolicy would silently drop the first grant.

/** Another writer held the principal's lease for too long; retrying later is safe (every write is idempotent). */
export class PrincipalBusy extends Error {
  override readonly name = 'PrincipalBusy';
  readonly retryable = true;
}

export interface LeaseOptions {
  /** How long the lease lasts without renewal (a crashed holder blocks other replicas this long); renewed by heartbeat. */
  ttlMs?: number;
  /** Give up waiting for the lease after sleeping this long in total. */
  maxWaitMs?: number;
  /** First back-off step; doubles up to `maxStepMs`, each step with full jitter. */
  firstStepMs?: number;
  maxStepMs?: number;
  /** Test seam; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface HeldLease {
  /** Extends the lease; throws PrincipalBusy if someone else took it over (our work took longer than the TTL). */
  renew(): Promise<void>;
}

const DEFAULTS = { ttlMs: LEASE_TTL_MS, maxWaitMs: 15_000, firstStepMs: 50, maxStepMs: 1_000 };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Per lease name, the tail of this process's queue of holders. */
const localTurns = new Map<string, Promise<void>>();

export function principalLeaseName(objectArn: string): string {
  return `principal#${objectArn}`;
}

/**
 * Runs `work` while holding the named lease, renewed by a heartbeat. `owner` is the replica's stable id: leases are
 * re-entrant for their owner, so calls in this process take turns in a local queue first, and a restarted replica
 * takes back at once a lease its crashed predecessor held.
 */
export async function withLease<T>(
  deps: { store: Store; clock: Clock; owner: string },
  name: string,
  work: (lease: HeldLease) => Promise<T>,
  options: LeaseOptions = {},
): Promise<T> {
  return inLocalTurn(name, () => holdingLease(deps, name, work, options));
}

async function holdingLease<T>(
  deps: { store: Store; clock: Clock; owner: string },
  name: string,
  work: (lease: HeldLease) => Promise<T>,
  options: LeaseOptions,
): Promise<T> {
  const { store, clock, owner } = deps;
  const ttlMs = options.ttlMs ?? DEFAULTS.ttlMs;
  const maxWaitMs = options.maxWaitMs ?? DEFAULTS.maxWaitMs;
  const maxStepMs = options.maxStepMs ?? DEFAULTS.maxStepMs;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  let waited = 0;
  let step = options.firstStepMs ?? DEFAULTS.firstStepMs;
  while (!(await store.acquireLease(name, owner, clock.now(), ttlMs))) {
    if (waited >= maxWaitMs) {
      throw new PrincipalBusy(
        `another jitbot operation is still changing ${name.replace(/^principal#/, '')}; will retry`,
      );
    }
    const delay = Math.min(Math.max(1, Math.round(random() * step)), maxWaitMs - waited);
    await sleep(delay);
    waited += delay;
    step = Math.min(step * 2, maxStepMs);
  }

  const heartbeat = startHeartbeat({ store, clock }, name, owner, { ttlMs });
  const lease: HeldLease = {
    async renew() {
      if (!(await store.acquireLease(name, owner, clock.now(), ttlMs))) {
        throw new PrincipalBusy(`lost the lease on ${name.replace(/^principal#/, '')} while working; will retry`);
      }
    },
  };
  try {
    return await work(lease);
  } finally {
    await heartbeat.stop();
    // A failed release only delays the next writer until the TTL passes; it must not hide the work's outcome.
    await store.releaseLease(name, owner).catch(() => undefined);
  }
}

/** Runs `work` after every earlier call for the same name in this process has finished. */
async function inLocalTurn<T>(name: string, work: () => Promise<T>): Promise<T> {
  const previous = localTurns.get(name) ?? Promise.resolve();
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const mine = previous.then(() => done);
  localTurns.set(name, mine);
  await previous;
  try {
    return await work();
  } finally {
    finish();
    if (localTurns.get(name) === mine) localTurns.delete(name);
  }
}
