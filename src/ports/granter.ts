import type { AwsPrincipal, Grant, JitRequest, RequestStatus } from '../core/model';

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

/** An owned grant as found in IAM, with enough to find its policy again. */
export interface IamOwnedGrant extends OwnedGrant {
  principal: AwsPrincipal;
  account: string;
  /** The IAM object holding the statement (user/role ARN or managed policy ARN). */
  policyArn: string;
  nodeArn: string;
}

export interface InspectionResult {
  grants: IamOwnedGrant[];
  /** Policies that could not be read (the rest are still reported). */
  failures: { policyArn: string; error: string }[];
}

export interface OrphanRemoval {
  removed: boolean;
  sessionsTerminated: number;
  /** The request's status when it was checked, or `missing`. */
  status: RequestStatus | 'missing';
}

/** What the reconciler needs from a real granter (IamGranter provides it); each repair is re-checked under the principal's lease. */
export interface ReconcilingGranter {
  /** Statements in the jitbot policies of these principals; a policy that cannot be read is reported, not thrown. */
  inspect(principals: readonly AwsPrincipal[], accounts: readonly string[]): Promise<InspectionResult>;
  /** Writes the statement of an active request again; undefined when nothing was restored. */
  restoreGrant(requestId: string): Promise<Grant | undefined>;
  /** Removes a statement whose request does not hold a grant and ends that person's sessions on the node. */
  removeOrphan(grant: IamOwnedGrant): Promise<OrphanRemoval>;
}
