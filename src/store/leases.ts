import type { Logger } from 'pino';
import type { Clock } from '../ports/clock';
import type { Store } from '../ports/store';

// Holding a lease in the store, for the services and the IAM granter alike. Leases are short (15 s) and renewed by
// a heartbeat while held, so a crashed holder blocks others for seconds, not minutes; and a replica keeps one owner
// id across restarts, so its next incarnation takes them back at once.

/** How long a lease lasts without renewal. */
export const LEASE_TTL_MS = 15_000;
/** Holders renew this often: two renewals can fail before the lease runs out. */
export const LEASE_RENEW_EVERY_MS = 5_000;

export interface LeaseDeps {
  store: Store;
  clock: Clock;
  logger?: Logger;
}

export interface Heartbeat {
  /** True once a renewal found the lease taken by someone else (our work outlived the TTL, e.g. a stalled process). */
  readonly lost: boolean;
  /** Stops renewing; resolves after any renewal in flight, so a release that follows cannot be undone by it. */
  stop(): Promise<void>;
}

/** Renews a lease `owner` already holds, every `everyMs` (default a third of the TTL), until stopped. */
export function startHeartbeat(
  deps: LeaseDeps,
  name: string,
  owner: string,
  options: { ttlMs?: number; everyMs?: number } = {},
): Heartbeat {
  const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  let lost = false;
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(
    () => {
      if (inFlight !== undefined) return;
      inFlight = deps.store
        .acquireLease(name, owner, deps.clock.now(), ttlMs)
        .then((renewed) => {
          if (renewed) return;
          lost = true;
          clearInterval(timer);
          deps.logger?.warn(
            { lease: name },
            'lost a lease while holding it (another holder took it over after it expired)',
          );
        })
        .catch((error: unknown) => deps.logger?.warn({ err: error, lease: name }, 'could not renew a lease; retrying'))
        .finally(() => {
          inFlight = undefined;
        });
    },
    options.everyMs ?? Math.max(1, Math.floor((ttlMs * LEASE_RENEW_EVERY_MS) / LEASE_TTL_MS)),
  );
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

export interface HeldLease {
  readonly lost: boolean;
  /** Stops the heartbeat and frees the lease. */
  release(): Promise<void>;
}

/** One attempt to take the lease; while held it is renewed by a heartbeat. Undefined when someone else holds it. */
export async function holdLease(
  deps: LeaseDeps,
  name: string,
  owner: string,
  ttlMs = LEASE_TTL_MS,
): Promise<HeldLease | undefined> {
  if (!(await deps.store.acquireLease(name, owner, deps.clock.now(), ttlMs))) return undefined;
  const heartbeat = startHeartbeat(deps, name, owner, { ttlMs });
  return {
    get lost() {
      return heartbeat.lost;
    },
    async release() {
      await heartbeat.stop();
      await deps.store.releaseLease(name, owner);
    },
  };
}
