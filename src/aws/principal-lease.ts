import type { Clock } from '../ports/clock';
import type { Store } from '../ports/store';

// Serialises read-modify-write of one principal's jitbot policy across calls, processes and replicas: two
// approvals for the same person at the same moment would otherwise both read the old document and the second
// PutUserPolicy would silently drop the first grant.

/** Another writer held the principal's lease for too long; retrying later is safe (every write is idempotent). */
export class PrincipalBusy extends Error {
  override readonly name = 'PrincipalBusy';
  readonly retryable = true;
}

export interface LeaseOptions {
  /** How long a holder may keep the lease without renewing it (a crashed holder blocks others this long). */
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

const DEFAULTS = { ttlMs: 60_000, maxWaitMs: 15_000, firstStepMs: 50, maxStepMs: 1_000 };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let sequence = 0;

export function principalLeaseName(objectArn: string): string {
  return `principal#${objectArn}`;
}

/**
 * Runs `work` while holding the named lease. `owner` identifies this process; each call adds a unique suffix,
 * because the store lets an owner re-acquire its own lease, which would let two calls in one process overlap.
 */
export async function withLease<T>(
  deps: { store: Store; clock: Clock; owner: string },
  name: string,
  work: (lease: HeldLease) => Promise<T>,
  options: LeaseOptions = {},
): Promise<T> {
  const { store, clock } = deps;
  const ttlMs = options.ttlMs ?? DEFAULTS.ttlMs;
  const maxWaitMs = options.maxWaitMs ?? DEFAULTS.maxWaitMs;
  const maxStepMs = options.maxStepMs ?? DEFAULTS.maxStepMs;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const owner = `${deps.owner}#${++sequence}`;

  let waited = 0;
  let step = options.firstStepMs ?? DEFAULTS.firstStepMs;
  while (!(await store.acquireLease(name, owner, clock.now(), ttlMs))) {
    if (waited >= maxWaitMs) {
      throw new PrincipalBusy(`another jitbot operation is still changing ${name.replace(/^principal#/, '')}; will retry`);
    }
    const delay = Math.min(Math.max(1, Math.round(random() * step)), maxWaitMs - waited);
    await sleep(delay);
    waited += delay;
    step = Math.min(step * 2, maxStepMs);
  }

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
    // A failed release only delays the next writer until the TTL passes; it must not hide the work's outcome.
    await store.releaseLease(name, owner).catch(() => undefined);
  }
}
