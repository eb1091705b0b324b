// The neutral domain model. Everything here is plain data (JSON-serialisable) so it can be stored as one
// DynamoDB item, rendered by any chat adapter and compared in tests. Times are epoch milliseconds.

export const PLATFORMS = ['console', 'slack', 'teams', 'feishu', 'dingtalk'] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface UserRef {
  platform: Platform;
  userId: string;
  displayName: string;
}

export interface ChannelRef {
  platform: Platform;
  channelId: string;
}

/** A message the bot posted (a card), so it can be updated and replied to in its thread. */
export interface MessageRef {
  platform: Platform;
  channelId: string;
  messageId: string;
  /** Set on thread replies: the message they belong to. */
  threadId?: string;
}

/** The AWS identity a chat user acts as. */
export type PrincipalKind = 'iam-user' | 'iam-role' | 'sso-permission-set';
export interface AwsPrincipal {
  kind: PrincipalKind;
  /** IAM user or role ARN; for Identity Center, the permission set's customer-managed policy is named by `policyName`. */
  arn: string;
  /** For a role shared by several people: the session name that identifies this person (aws:userid = <roleId>:<sessionName>). */
  sessionName?: string;
  /** Identity Center: the customer-managed policy the permission set references, which jitbot rewrites. */
  policyName?: string;
}

export interface Requester extends UserRef {
  email?: string;
  groups: string[];
  principal?: AwsPrincipal;
}

/** A managed node as the inventory sees it. */
export interface Node {
  id: string;
  account: string;
  region: string;
  name?: string;
  tags: Record<string, string>;
  state?: string;
  /** SSM agent ping status: Online, ConnectionLost, Inactive, or NotRegistered when SSM does not know it. */
  pingStatus?: string;
}

export const REQUEST_STATUSES = [
  'pending',
  'approved',
  'active',
  /** Access is being removed: stays so until IAM has accepted the removal, then `revoked` (a person) or `ended` (expiry). */
  'revoking',
  'ended',
  'revoked',
  'rejected',
  'cancelled',
  'timed_out',
  'failed',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export interface ApprovalLevel {
  /** Approver roles (config names) whose members may decide at this level. */
  roles: string[];
  /** Users named directly: `platform:userId` or an email address. */
  users: string[];
  /** Approvals needed to close the level (1–5). */
  required: number;
}

export interface Decision {
  by: UserRef;
  /** The roles the person acted for (empty when named directly). */
  roles: string[];
  /** 0-based level index the decision was made at. */
  level: number;
  verdict: 'approve' | 'reject';
  comment?: string;
  at: number;
}

export interface MatchedPolicy {
  name: string;
  kind: 'auto' | 'manual';
}

export interface Grant {
  /** Deterministic: the request id, so retries never create a second grant. */
  grantId: string;
  startsAt: number;
  expiresAt: number;
  dryRun: boolean;
  /** Human-readable description of what was written (e.g. the IAM call and policy JSON in dry run). */
  summary: string;
  detail?: string;
}

/** Side effect waiting to be performed by the outbox worker, stored inside the request item (see store design). */
/** Every effect carries `id` (unique within the request), `attempts` (failed tries so far) and, after a failure, when to try again. */
export type Effect = EffectBody & { id: string; attempts?: number; retryAt?: number };
export type EffectBody =
  /** Post a card in every channel that speaks for the open level's roles and has none yet. */
  | { kind: 'postCard' }
  | { kind: 'updateCards' }
  | { kind: 'threadReply'; text: string }
  | { kind: 'notifyRequester'; text: string }
  /** A direct message to each of these people (e.g. the approvers who decided). */
  | { kind: 'notifyPeople'; people: UserRef[]; text: string }
  /** Tell the configured admins (direct message) and the operators (error-level log line). */
  | { kind: 'alertAdmins'; text: string }
  | { kind: 'grant' }
  | { kind: 'revoke' }
  /** The follow-up pass: end sessions opened while the IAM change was propagating. */
  | { kind: 'terminateSessions' }
  | { kind: 'audit'; event: AuditDraft };

/** Why IAM did not accept a grant or revoke: a known condition, or the (secret-free) error message. */
export type IamProblem = { code: 'throttled' | 'unavailable' | 'unreachable' } | { code: 'error'; message: string };

/**
 * A grant or revoke that IAM has not accepted yet. It is what the card, thread and messages say while the outbox
 * retries; it goes away when the change succeeds. The retry itself is scheduled on the outbox effect.
 */
export interface IamRetry {
  change: 'grant' | 'revoke';
  problem: IamProblem;
  /** Failed tries so far. */
  failures: number;
  /** Tries before a grant fails the request, or before admins are alerted about a revoke. */
  maxAttempts: number;
  /** The first failure. */
  since: number;
  /** When the next try is due. */
  retryAt: number;
  /** When the people involved were told it is taking long (once). */
  slowToldAt?: number;
  /** Revokes: when the admins were alerted that it keeps failing (once). */
  alertedAt?: number;
}

export interface AuditDraft {
  action: string;
  actor: string;
  from?: RequestStatus;
  to?: RequestStatus;
  comment?: string;
  deliveryId?: string;
  detail?: Record<string, unknown>;
}

export interface JitRequest {
  /** Short human id, e.g. JIT-7K3Q2. */
  id: string;
  requester: Requester;
  /** Where the request was typed, so replies can go back there. */
  origin: ChannelRef;
  target: Node;
  reason: string;
  durationMs: number;
  policy: MatchedPolicy;
  levels: ApprovalLevel[];
  /** Index of the open level while pending; equals levels.length once all levels approved. */
  currentLevel: number;
  decisions: Decision[];
  status: RequestStatus;
  /** Incremented by every write; every write is conditional on the version read. */
  version: number;
  createdAt: number;
  updatedAt: number;
  /** Pending requests time out at this instant. */
  timeoutAt: number;
  reminderIntervalMs?: number;
  nextReminderAt?: number;
  /** After access ended: when to look once more for live sessions started while the IAM change propagated. */
  sessionsFollowUpAt?: number;
  /** When the requester was warned that access ends soon. */
  expiryWarnedAt?: number;
  warnBeforeMs?: number;
  grant?: Grant;
  /** A grant or revoke IAM has not accepted yet. */
  iamRetry?: IamRetry;
  failureReason?: string;
  /** Who revoked (absent when access ended at its expiry). Set when the revoke is asked for. */
  endedBy?: UserRef;
  /** When the revoke was asked for or the expiry was reached (status `revoking` from then on). */
  revokeRequestedAt?: number;
  /** When access ended: IAM accepted the removal (revoked, ended), or the request closed without access. */
  endedAt?: number;
  /** Approval cards posted for this request (one per channel). */
  cards: MessageRef[];
  outbox: Effect[];
}
