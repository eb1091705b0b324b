import type { ApprovalLevel } from './model';

// Approval policies, evaluated like AWS just-in-time node access: deny → auto-approve → manual.

/** Which nodes a policy covers. An empty selector (no ids, tags, accounts or regions) means all nodes. */
export interface TargetSelector {
  /** Node ids (i-…, mi-…). */
  ids?: string[];
  /** Every listed tag must match (key → value; value "*" matches any value). */
  tags?: Record<string, string>;
  accounts?: string[];
  regions?: string[];
}

export interface RequesterCondition {
  /** Requester must be in at least one of these groups (from the identity mapping). Absent: anyone. */
  groups?: string[];
}

interface PolicyBase {
  name: string;
  description?: string;
  targets: TargetSelector;
  requesters?: RequesterCondition;
}

export interface DenyPolicy extends PolicyBase {
  kind: 'deny';
  /** Shown to the requester, e.g. "Database hosts are reached through the bastion only." */
  message: string;
}

export interface AutoApprovalPolicy extends PolicyBase {
  kind: 'auto';
  /** Fixed maximum duration (default 1 h). */
  maxDurationMs: number;
}

export interface ManualPolicy extends PolicyBase {
  kind: 'manual';
  minDurationMs: number;
  maxDurationMs: number;
  defaultDurationMs: number;
  /** 1–5 ordered levels. */
  levels: ApprovalLevel[];
  /** Pending requests time out after this long (default 24 h). */
  timeoutMs: number;
  /** Remind the open level's approvers this often while pending (0 = never). */
  reminderIntervalMs: number;
}

export type Policy = DenyPolicy | AutoApprovalPolicy | ManualPolicy;
