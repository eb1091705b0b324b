import type { JitRequest } from './model';

/** Which part of the sparse "due" index a request sits in, if any. */
export type DueKind = 'pending' | 'active' | 'cleanup';

export function dueKindOf(request: Pick<JitRequest, 'status' | 'sessionsFollowUpAt'>): DueKind | undefined {
  if (request.status === 'pending') return 'pending';
  if (request.status === 'active') return 'active';
  if ((request.status === 'ended' || request.status === 'revoked') && request.sessionsFollowUpAt !== undefined)
    return 'cleanup';
  return undefined;
}

/**
 * The next instant at which the scheduler must look at a request, or undefined when nothing is due ever again.
 * Pending: the time-out or the next reminder. Active: the expiry warning (once) or the expiry itself.
 * Ended or revoked: the follow-up pass that ends sessions opened while the IAM change propagated.
 * The store indexes this value in its sparse "due" index, so sweeps read only what is due.
 */
export function nextDueAt(request: JitRequest): number | undefined {
  if (request.status === 'pending') {
    return request.nextReminderAt !== undefined
      ? Math.min(request.timeoutAt, request.nextReminderAt)
      : request.timeoutAt;
  }
  if (request.status === 'active' && request.grant) {
    const { expiresAt } = request.grant;
    const warnAt = request.warnBeforeMs ? expiresAt - request.warnBeforeMs : undefined;
    if (warnAt !== undefined && request.expiryWarnedAt === undefined && warnAt > request.grant.startsAt) {
      return Math.min(warnAt, expiresAt);
    }
    return expiresAt;
  }
  if (dueKindOf(request) === 'cleanup') return request.sessionsFollowUpAt;
  return undefined;
}
