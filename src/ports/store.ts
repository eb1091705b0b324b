import type { AuditAnchors, AuditEvent, AuditInput } from '../core/audit-chain';
import type { JitRequest, Platform } from '../core/model';
import type { InboundEvent } from './chat';

export type { AuditAnchors, AuditEvent, AuditHead, AuditInput, AuditPruningPoint } from '../core/audit-chain';

export type { ChannelMapping } from '../core/identity-model';
import type { ChannelMapping } from '../core/identity-model';

export type { DueKind } from '../core/deadlines';
import type { DueKind } from '../core/deadlines';

/** An inbound event kept durably from before its ack until it has been processed. */
export interface StoredInboundEvent {
  event: InboundEvent;
  /** When it was recorded (epoch ms); replay goes oldest first. */
  receivedAt: number;
}

/** A small JSON document kept under (namespace, key); see `putRecord`. */
export interface DurableRecord<T = unknown> {
  key: string;
  /** Any JSON value (objects, arrays, strings, finite numbers, booleans, null). */
  value: T;
  /** Optional position for `listRecords(…, { by: 'order' })`, e.g. a timestamp. Records without one are left out there. */
  order?: number;
}

export interface StoredRecord<T = unknown> extends DurableRecord<T> {
  /** 1 after the first put, +1 on every put; pass it as `expectedVersion` for compare-and-set. */
  version: number;
}

/**
 * Persistence port, implemented by SqliteStore (embedded, one replica) and DynamoStore (production, any number
 * of replicas); one conformance suite (test/store/store-suite.ts) holds both to the same behaviour. Every write
 * that changes existing state is conditional (compare-and-set on `version` for requests, insert-if-absent for
 * new items), so concurrent clicks, retries and replicas cannot double-apply. A request and its derived index
 * entries (due, outbox) change in one atomic write.
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

  /**
   * Atomic insert of (platform, deliveryId); false if it was already seen and has not expired. Shares its
   * de-duplication with `recordInboundEvent`: a delivery id claimed here cannot be recorded there, and vice versa.
   */
  claimDelivery(platform: Platform, deliveryId: string, now: number, ttlMs: number): Promise<boolean>;
  /**
   * Forgets a claimed delivery (or a recorded inbound event, processed or not), so that the platform's retry of an
   * event that failed is processed.
   */
  releaseDelivery(platform: Platform, deliveryId: string): Promise<void>;

  // ── durable inbound events: store before the ack, process, replay what a crash left unprocessed ──

  /**
   * Stores an inbound event (command or click) durably, keyed by (event.platform, event.deliveryId), so that it can
   * be acknowledged to the platform and still be processed after a crash. This is also the delivery claim: true
   * when the event is new; false when the same delivery id was already recorded or claimed and that record has not
   * expired (`receivedAt + dedupeMs`), or is still unprocessed (an unprocessed event is never replaced: it is replayed).
   * The stored event is returned unchanged by `listUnprocessedInboundEvents` until `markInboundEventProcessed`.
   */
  recordInboundEvent(event: InboundEvent, receivedAt: number, dedupeMs: number): Promise<boolean>;
  /**
   * Marks a recorded event processed: it leaves the unprocessed list but keeps de-duplicating its delivery id until
   * it expires. False when there is no unprocessed event under that id (never recorded, released, or already marked).
   */
  markInboundEventProcessed(platform: Platform, deliveryId: string): Promise<boolean>;
  /** Recorded events not yet marked processed, oldest first, at most `limit` (read through an index, never a scan). */
  listUnprocessedInboundEvents(limit: number): Promise<StoredInboundEvent[]>;

  // ── durable records: small JSON documents by (namespace, key), e.g. the console's messages and threads ──

  /**
   * Creates or replaces the record `record.key` in `namespace` and bumps its version. Without `expectedVersion`
   * the write is unconditional (last writer wins: for data one process owns). With it, the write is a
   * compare-and-set: `0` means "must not exist yet", `n` means "stored version must be n"; false when it is not.
   * Records are meant to be small (DynamoDB caps an item at 400 KB).
   */
  putRecord(namespace: string, record: DurableRecord, expectedVersion?: number): Promise<boolean>;
  getRecord(namespace: string, key: string): Promise<StoredRecord | undefined>;
  /**
   * At most `limit` records of a namespace. `by: 'key'` (default): every record, by key (string order).
   * `by: 'order'`: only records that have an `order`, by order, ties by key; read through an index, so it may lag
   * a just-written record on DynamoDB. `newestFirst` reverses either order.
   */
  listRecords(
    namespace: string,
    options: { limit: number; by?: 'key' | 'order'; newestFirst?: boolean },
  ): Promise<StoredRecord[]>;
  /** False if there was no such record. */
  deleteRecord(namespace: string, key: string): Promise<boolean>;

  listChannelMappings(): Promise<ChannelMapping[]>;
  putChannelMapping(mapping: ChannelMapping): Promise<void>;
  /** False if there was no such mapping. */
  deleteChannelMapping(platform: Platform, channelId: string): Promise<boolean>;

  /**
   * Appends to the hash-chained audit log at the next sequence number and moves the head record (newest seq and
   * hash) in the same atomic write, conditional on the head not having moved. Appends from one process are queued;
   * on a conflict with another process the head is re-read and the append retried, with back-off, until it lands:
   * an event is never dropped. Rejects only on a store failure (the caller's retry appends it then).
   */
  appendAudit(event: AuditInput): Promise<AuditEvent>;
  /** Oldest first (newest first if asked); `since` is an epoch-ms lower bound on `at`, filtered over the retained log. */
  listAudit(options?: { since?: number; limit?: number; newestFirst?: boolean }): Promise<AuditEvent[]>;
  /**
   * The head record and the pruning point, for `verifyAuditChain`. Read them before the events: events appended
   * after this read are fine, events missing below the head are not.
   */
  getAuditAnchors(): Promise<AuditAnchors>;
  /**
   * Deletes the oldest events whose `at` is older than the retention period (from `now`), oldest first and stopping
   * at the first younger one, after recording the newest deleted event as the pruning point. Returns how many.
   */
  pruneAudit(now: number): Promise<number>;

  /**
   * A named lease (sweeper, outbox, per-principal IAM writes). True if `owner` now holds it until now + ttlMs:
   * it was free, expired, or already held by `owner` (re-entrant: renewing is acquiring again). A replica uses one
   * stable owner id across restarts, so at start it takes back at once what its crashed predecessor held.
   */
  acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Frees the lease if `owner` holds it; otherwise does nothing. */
  releaseLease(name: string, owner: string): Promise<void>;

  close(): Promise<void>;
}
