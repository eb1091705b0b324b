import type { JitRequest } from '../core/model';
import type { Store } from '../ports/store';

// The one compare-and-set loop for requests: read the freshest version, let `fn` decide on it, write with the
// version read as the condition, and on a lost race wait a little (jittered, so racing writers spread out) and
// decide again on what the winner wrote.

/** What `fn` may answer for the fresh request: the next version, a refusal, or "nothing to do". */
export type UpdateDecision<R> = { next: JitRequest } | { refuse: R } | { skip: true };

export type UpdateOutcome<R> =
  | { kind: 'saved'; request: JitRequest; previous: JitRequest }
  | { kind: 'refused'; refusal: R; request: JitRequest }
  | { kind: 'skipped'; request: JitRequest }
  | { kind: 'missing' }
  /** Every attempt lost its race. */
  | { kind: 'contended'; attempts: number };

export interface UpdateOptions {
  /** Reads and writes at most this many times (default 10). */
  attempts?: number;
  /** Back-off before retry n (1-based) is a random wait up to min(maxDelayMs, baseDelayMs × 2^(n-1)). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injectable for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULTS = { attempts: 10, baseDelayMs: 5, maxDelayMs: 200 };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** "Full jitter" back-off: a uniformly random wait up to the exponential cap. */
export function backoffDelay(retry: number, options: UpdateOptions = {}): number {
  const base = options.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const max = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const cap = Math.min(max, base * 2 ** Math.max(0, retry - 1));
  return Math.floor((options.random ?? Math.random)() * cap);
}

/**
 * Applies `fn` to the request `id` with compare-and-set. Whatever `fn` returns as the next version is written
 * as exactly one version after the one it read (`fn` may chain several transitions).
 */
export async function updateRequest<R = never>(
  store: Store,
  id: string,
  fn: (fresh: JitRequest) => UpdateDecision<R>,
  options: UpdateOptions = {},
): Promise<UpdateOutcome<R>> {
  const attempts = options.attempts ?? DEFAULTS.attempts;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await (options.sleep ?? realSleep)(backoffDelay(attempt - 1, options));
    const fresh = await store.getRequest(id);
    if (!fresh) return { kind: 'missing' };
    const decision = fn(fresh);
    if ('refuse' in decision) return { kind: 'refused', refusal: decision.refuse, request: fresh };
    if ('skip' in decision) return { kind: 'skipped', request: fresh };
    const next = { ...decision.next, version: fresh.version + 1 };
    if (await store.saveRequest(next, fresh.version)) return { kind: 'saved', request: next, previous: fresh };
  }
  return { kind: 'contended', attempts };
}
