import type { Grant, JitRequest } from '../core/model';

export interface OwnedGrant {
  grantId: string;
  principalArn: string;
  nodeId: string;
  expiresAt: number;
}

/** Gives and takes away temporary Session Manager access. Every call is idempotent (keyed by request id). */
export interface Granter {
  /** True when no AWS account is configured: nothing is written, the grant only describes what would be. */
  readonly dryRun: boolean;
  grant(request: JitRequest, startsAt: number, expiresAt: number): Promise<Grant>;
  /** Removes the grant and ends the person's live sessions on the node. */
  revoke(request: JitRequest): Promise<{ sessionsTerminated: number; summary: string }>;
  /** Ends the person's live sessions on the node again (the follow-up pass after a revoke); returns how many. */
  terminateSessions(request: JitRequest): Promise<number>;
  listOwnedGrants(): Promise<OwnedGrant[]>;
}

/** A grant that cannot be made; the message is shown on the card and in the thread. */
export class GrantRefused extends Error {
  override readonly name = 'GrantRefused';
}

/** Ends live Session Manager sessions; used by the granter on revoke and by the follow-up pass after it. */
export interface SessionTerminator {
  /** Terminates the requester's active sessions on the request's node; returns how many were ended. */
  terminateSessions(request: JitRequest): Promise<number>;
}
