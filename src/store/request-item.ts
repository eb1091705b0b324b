import { dueKindOf, nextDueAt } from '../core/deadlines';
import type { JitRequest } from '../core/model';
import { ATTR } from './table';
import { OUTBOX_PARTITION, RECENT_PARTITION, duePartition, requestKey, requesterPartition } from './keys';

/**
 * How a request is stored: the request object under `data`, a top-level `version` for conditional writes,
 * and the index attributes derived from it. Sparse index attributes are simply absent when the request
 * should not be in that index; every write is a whole-item Put, so a stale attribute never survives.
 */
export type RequestItem = {
  pk: string;
  sk: string;
  type: 'request';
  version: number;
  data: JitRequest;
  [ATTR.requesterPk]: string;
  [ATTR.recentPk]: string;
  [ATTR.createdAt]: number;
  [ATTR.duePk]?: string;
  [ATTR.dueAt]?: number;
  [ATTR.outboxPk]?: string;
  [ATTR.outboxAt]?: number;
};

export function toRequestItem(request: JitRequest): RequestItem {
  const item: RequestItem = {
    ...requestKey(request.id),
    type: 'request',
    version: request.version,
    data: request,
    [ATTR.requesterPk]: requesterPartition(request.requester.platform, request.requester.userId),
    [ATTR.recentPk]: RECENT_PARTITION,
    [ATTR.createdAt]: request.createdAt,
  };
  const dueKind = dueKindOf(request);
  const dueAt = nextDueAt(request);
  if (dueKind && dueAt !== undefined) {
    item[ATTR.duePk] = duePartition(dueKind);
    item[ATTR.dueAt] = dueAt;
  }
  if (request.outbox.length > 0) {
    item[ATTR.outboxPk] = OUTBOX_PARTITION;
    item[ATTR.outboxAt] = request.updatedAt;
  }
  return item;
}

export function fromRequestItem(item: Record<string, unknown>): JitRequest {
  const data = item.data;
  if (typeof data !== 'object' || data === null) {
    throw new Error(`stored item ${String(item.pk)} has no request data`);
  }
  return data as JitRequest;
}
