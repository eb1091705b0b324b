import type { AuditEvent, AuditInput } from '../core/audit-chain';
import type { JitRequest, Platform } from '../core/model';

export type { AuditEvent, AuditInput } from '../core/audit-chain';

export type { ChannelMapping } from '../core/identity-model';
import type { ChannelMapping } from '../core/identity-model';

export type { DueKind } from '../core/deadlines';
import type { DueKind } from '../core/deadlines';

/**
 * Persistence port. Every write that changes existing state is conditional (compare-and-set on `version`
 * for requests, attribute_not_exists for inserts), so concurrent clicks, retries and replicas cannot
 * double-apply. Single-item writes only (no transactions).
 */
export interface Store {
  /** Inserts a new request; false if the id is taken. */
  createRequest(request: JitRequest): Promise<boolean>;
  getRequest(id: string): Promise<JitRequest | undefined>;
  /**
   * Replaces the request if the stored version still equals `expectedVersion`; `request.version` must be
   * `expectedVersion + 1`. False when someone else wrote first.
   */
  saveRequest(request: JitRequest, expectedVersion: number): Promise<boolean>;
  /** Newest first, through the "requests by requester" index. */
  listRequestsByRequester(platform: Platform, userId: string, limit: number): Promise<JitRequest[]>;
  /** Newest first, across everyone (console list, admin views). */
  listRecentRequests(limit: number): Promise<JitRequest[]>;
  /** Requests whose next deadline (timeout/reminder for pending, expiry/warning for active) is ≤ `dueBy`, via the sparse due index. */
  listDue(kind: DueKind, dueBy: number, limit: number): Promise<JitRequest[]>;
  /**
   * One page of the active requests (soonest deadline first), through the `active` partition of the due index,
   * each re-read consistently; requests no longer active are left out. Pass the returned `cursor` (opaque) to get the
   * next page; it is absent after the last page. A page holds at most `limit` requests and may be empty.
   */
  listActivePage(options: { limit: number; cursor?: string }): Promise<{ requests: JitRequest[]; cursor?: string }>;
  /** Requests with effects still in their outbox, via the sparse outbox index. */
  listWithPendingEffects(limit: number): Promise<JitRequest[]>;

  /** Atomic insert of (platform, deliveryId); false if it was already seen and has not expired. */
  claimDelivery(platform: Platform, deliveryId: string, now: number, ttlMs: number): Promise<boolean>;
  /** Forgets a claimed delivery, so that the platform's retry of an event that failed is processed. */
  releaseDelivery(platform: Platform, deliveryId: string): Promise<void>;

  listChannelMappings(): Promise<ChannelMapping[]>;
  putChannelMapping(mapping: ChannelMapping): Promise<void>;
  /** False if there was no such mapping. */
  deleteChannelMapping(platform: Platform, channelId: string): Promise<boolean>;

  /** Appends to the hash-chained audit log (conditional insert at the next sequence number; retried on contention). */
  appendAudit(event: AuditInput): Promise<AuditEvent>;
  /** Oldest first (newest first if asked); `since` is an epoch-ms lower bound on `at`, filtered over the retained log. */
  listAudit(options?: { since?: number; limit?: number; newestFirst?: boolean }): Promise<AuditEvent[]>;

  /** A named lease (sweeper, per-principal IAM writes). True if `owner` now holds it until now + ttlMs. */
  acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;

  close(): Promise<void>;
}
