import type { AuditDraft, EffectBody, JitRequest, MessageRef } from './model';

// The request's outbox as data: queueing the side effects a transition implies, and recording what the outbox
// worker did with them. Pure; the worker (src/services/outbox.ts) performs the effects.

/** Times are those of the transition that writes them. */
export interface BookkeepingContext {
  now: number;
}

export function audit(event: AuditDraft): EffectBody {
  return { kind: 'audit', event };
}

/** The next version of `request` with `changes` applied and `effects` appended to its outbox. */
export function advance(
  request: JitRequest,
  ctx: BookkeepingContext,
  changes: Partial<JitRequest>,
  effects: EffectBody[],
): JitRequest {
  const version = request.version + 1;
  return {
    ...request,
    ...changes,
    version,
    updatedAt: ctx.now,
    outbox: [...request.outbox, ...withIds(effects, version)],
  };
}

/**
 * Like `advance`, but the new effects go just before the effect `beforeId` (or last, when it is gone). Used for
 * notices about an effect that is waiting for its retry: they should not wait behind it.
 */
export function advanceAhead(
  request: JitRequest,
  beforeId: string,
  ctx: BookkeepingContext,
  changes: Partial<JitRequest>,
  effects: EffectBody[],
): JitRequest {
  const version = request.version + 1;
  const queued = withIds(effects, version);
  const at = request.outbox.findIndex((e) => e.id === beforeId);
  const outbox =
    at < 0 ? [...request.outbox, ...queued] : [...request.outbox.slice(0, at), ...queued, ...request.outbox.slice(at)];
  return { ...request, ...changes, version, updatedAt: ctx.now, outbox };
}

/** Effect ids are unique within a request: the version that queued them and their position. */
function withIds(effects: EffectBody[], version: number) {
  return effects.map((effect, index) => ({ ...effect, id: `${version}.${index}` }));
}

export function withoutEffect(request: JitRequest, effectId: string): JitRequest {
  return { ...request, outbox: request.outbox.filter((e) => e.id !== effectId) };
}

/** Removes performed effects (ids not present are ignored, so a retried completion is harmless). */
export function completeEffects(request: JitRequest, effectIds: string[], ctx: BookkeepingContext): JitRequest {
  return {
    ...request,
    outbox: request.outbox.filter((e) => !effectIds.includes(e.id)),
    version: request.version + 1,
    updatedAt: ctx.now,
  };
}

/** The longest wait between two tries of an effect. */
export const MAX_RETRY_DELAY_MS = 10 * 60_000;

/** Wait before retrying a failed effect: 5 s, doubling per attempt, at most 10 minutes. */
export function effectRetryDelay(attempts: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, 5_000 * 2 ** Math.max(0, attempts - 1));
}

/** Records a failed try of an effect and when to try it again. */
export function rescheduleEffect(request: JitRequest, effectId: string, attempts: number, retryAt: number): JitRequest {
  return { ...request, outbox: request.outbox.map((e) => (e.id === effectId ? { ...e, attempts, retryAt } : e)) };
}

/** Counts a failed attempt and schedules the retry; after `maxAttempts` the effect is dropped and the drop is audited. */
export function failEffect(
  request: JitRequest,
  effectId: string,
  error: string,
  maxAttempts: number,
  ctx: BookkeepingContext,
): JitRequest {
  const effect = request.outbox.find((e) => e.id === effectId);
  if (!effect) return request;
  const attempts = (effect.attempts ?? 0) + 1;
  if (attempts < maxAttempts) {
    const retried = rescheduleEffect(request, effectId, attempts, ctx.now + effectRetryDelay(attempts));
    return { ...retried, version: request.version + 1, updatedAt: ctx.now };
  }
  return advance(withoutEffect(request, effectId), ctx, {}, [
    audit({ action: 'effect.abandoned', actor: 'jitbot', detail: { effect: effect.kind, attempts, error } }),
  ]);
}

/** Records where a card was posted so later effects can update it and reply in its thread. */
export function recordCard(request: JitRequest, card: MessageRef, ctx: BookkeepingContext): JitRequest {
  const exists = request.cards.some((c) => c.platform === card.platform && c.channelId === card.channelId);
  if (exists) return request;
  return { ...request, cards: [...request.cards, card], version: request.version + 1, updatedAt: ctx.now };
}
