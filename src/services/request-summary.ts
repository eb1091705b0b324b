import type { JitRequest } from '../core/model';

/** The flat, public view of a request (lists, exports): no outbox or internal bookkeeping. */
export interface RequestSummary {
  id: string;
  status: JitRequest['status'];
  requester: string;
  node: string;
  nodeId: string;
  account: string;
  region: string;
  reason: string;
  policy: string;
  durationMs: number;
  createdAt: string;
  expiresAt?: string;
  decisions: string[];
  failureReason?: string;
}

export function summarizeRequest(request: JitRequest): RequestSummary {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: request.id,
    status: request.status,
    requester: request.requester.displayName,
    node: request.target.name ?? request.target.id,
    nodeId: request.target.id,
    account: request.target.account,
    region: request.target.region,
    reason: request.reason,
    policy: request.policy.name,
    durationMs: request.durationMs,
    createdAt: iso(request.createdAt),
    expiresAt: request.grant ? iso(request.grant.expiresAt) : undefined,
    decisions: request.decisions.map(
      (d) => `L${d.level + 1} ${d.verdict} by ${d.by.displayName}${d.comment ? `: ${d.comment}` : ''}`,
    ),
    failureReason: request.failureReason,
  };
}
