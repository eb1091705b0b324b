import type { JitRequest } from './model';

// When a request's statement belongs in IAM. The granter re-checks these under the principal's lease and the
// reconciler uses them to tell orphans from missing grants.

/**
 * Whether a request may legitimately have a statement in IAM: its grant is being made (approved) or it is active
 * and not being revoked. Anything else with a statement is an orphan.
 */
export function mayHoldGrant(request: JitRequest): boolean {
  if (request.status === 'approved') return true;
  return request.status === 'active' && !request.outbox.some((effect) => effect.kind === 'revoke');
}

/** Whether a request must have its statement in IAM right now (active, real, not expired, not being revoked). */
export function shouldHoldGrant(request: JitRequest, now: number): boolean {
  return (
    request.status === 'active' &&
    mayHoldGrant(request) &&
    !!request.grant &&
    !request.grant.dryRun &&
    request.grant.expiresAt > now
  );
}
