import Database from 'better-sqlite3';
import { ulid } from 'ulid';
import { GENESIS_HASH, hashAuditEvent } from '../core/audit-chain';
import { dueKindOf, nextDueAt } from '../core/deadlines';
import type { JitRequest, Platform } from '../core/model';
import type { InboundEvent } from '../ports/chat';
import type {
  AuditAnchors,
  AuditEvent,
  AuditHead,
  AuditInput,
  ChannelMapping,
  DueKind,
  DurableRecord,
  Store,
  StoredInboundEvent,
  StoredRecord,
} from '../ports/store';
import { sleep } from './batch-get';
import { assertPageLimit, decodeCursor, encodeCursor } from './cursor';
import {
  assertExpectedVersion,
  assertInboundEvent,
  assertNamespace,
  assertRecordName,
  recordJson,
} from './input-checks';
import { HOT_SQL, OTHER_SQL, SCHEMA, SCHEMA_VERSION } from './sqlite-schema';

export interface SqliteStoreOptions {
  /** The database file (its directory must exist), or ':memory:'. */
  filename: string;
  /** Audit events older than this are pruned by `pruneAudit` (default 400 days). */
  auditRetentionDays?: number;
  /**
   * `normal` (default): a commit survives the process being killed; an OS crash or power cut may lose the last few
   * commits (never corrupts). `full`: every commit is fsynced first. See docs/store.md.
   */
  synchronous?: 'normal' | 'full';
  /** How long a write waits for another process's write lock before failing (default 5 s). */
  busyTimeoutMs?: number;
}

type Statement = Database.Statement;
type Statements<T> = { [K in keyof T]: Statement };

const DAY_MS = 86_400_000;
const PRUNE_BATCH = 500;
const HOUSEKEEPING_EVERY_MS = 60_000;
const HOUSEKEEPING_BATCH = 500;
/** Expired leases linger this long before housekeeping removes them (they are free either way). */
const EXPIRED_LEASE_GRACE_MS = DAY_MS;
const AUDIT_BUSY_BACKOFF_MAX_MS = 1_000;

interface RequestRow {
  id: string;
  version: number;
  data: string;
  requester: string;
  created_at: number;
  due_kind: DueKind | null;
  due_at: number | null;
  outbox_at: number | null;
}

interface RecordRow {
  key: string;
  version: number;
  ord: number | null;
  data: string;
}

/**
 * The Store port over one SQLite file (better-sqlite3), for the embedded single-replica set-up: WAL, one
 * transaction per logical write, and other processes (the admin CLI) reading and writing the same file, their
 * writes serialised by SQLite's lock and busy timeout. Calls run synchronously inside the async methods, so in
 * one process they never interleave. docs/store.md describes the schema.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly hot: Statements<typeof HOT_SQL>;
  private readonly other: Statements<typeof OTHER_SQL>;
  private readonly auditRetentionMs: number;
  /** The audit head as of this process's last append (undefined: read it from the file). */
  private auditHead: AuditHead | undefined;
  private nextHousekeepingAt = Number.NEGATIVE_INFINITY;

  constructor(options: SqliteStoreOptions) {
    const retentionDays = options.auditRetentionDays ?? 400;
    if (!(retentionDays > 0)) throw new Error('auditRetentionDays must be positive');
    this.auditRetentionMs = Math.round(retentionDays * DAY_MS);

    const db = new Database(options.filename, { timeout: options.busyTimeoutMs ?? 5_000 });
    try {
      db.pragma('journal_mode = WAL'); // ':memory:' stays in its memory journal
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('journal_size_limit = 67108864'); // truncate the WAL back to 64 MB after a checkpoint
      db.transaction(() => migrate(db)).immediate();
      this.hot = prepareAll(db, HOT_SQL);
      this.other = prepareAll(db, OTHER_SQL);
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
  }

  /**
   * The replica id kept in this file (created on first use): a server on this data directory keeps the same lease
   * owner across restarts, so it takes back at once the leases its crashed predecessor held.
   */
  replicaId(): string {
    return this.db
      .transaction(() => {
        this.db
          .prepare(`INSERT INTO meta (key, value) VALUES ('replica_id', ?) ON CONFLICT (key) DO NOTHING`)
          .run(`embedded-${ulid()}`);
        return (this.db.prepare(`SELECT value FROM meta WHERE key = 'replica_id'`).get() as { value: string }).value;
      })
      .immediate();
  }

  // ---- requests ----

  async createRequest(request: JitRequest): Promise<boolean> {
    return this.hot.createRequest.run(requestRow(request)).changes === 1;
  }

  async getRequest(id: string): Promise<JitRequest | undefined> {
    const row = this.hot.getRequest.get(id) as { data: string } | undefined;
    return row ? parseRequest(row.data) : undefined;
  }

  async saveRequest(request: JitRequest, expectedVersion: number): Promise<boolean> {
    if (request.version !== expectedVersion + 1) {
      throw new Error(
        `saveRequest(${request.id}): version must be expectedVersion + 1 (got ${request.version}, expected ${expectedVersion + 1})`,
      );
    }
    return this.hot.saveRequest.run({ ...requestRow(request), expected: expectedVersion }).changes === 1;
  }

  async listRequestsByRequester(platform: Platform, userId: string, limit: number): Promise<JitRequest[]> {
    return this.requests(this.hot.listByRequester.all(requesterKey(platform, userId), sqlLimit(limit)));
  }

  async listRecentRequests(limit: number): Promise<JitRequest[]> {
    return this.requests(this.hot.listRecent.all(sqlLimit(limit)));
  }

  async listDue(kind: DueKind, dueBy: number, limit: number): Promise<JitRequest[]> {
    return this.requests(this.hot.listDue.all(kind, dueBy, sqlLimit(limit)));
  }

  async listActivePage(options: {
    limit: number;
    cursor?: string;
  }): Promise<{ requests: JitRequest[]; cursor?: string }> {
    assertPageLimit(options.limit);
    // One row more than asked says whether another page follows, so the last page carries no cursor.
    let rows: { data: string; due_at: number; id: string }[];
    if (options.cursor === undefined) {
      rows = this.hot.listActiveFirst.all(options.limit + 1) as typeof rows;
    } else {
      const { dueAt, id } = decodeCursor(options.cursor);
      if (typeof dueAt !== 'number' || typeof id !== 'string') throw new Error('invalid page cursor');
      rows = this.hot.listActiveAfter.all(dueAt, id, options.limit + 1) as typeof rows;
    }
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    const requests = page.map((row) => parseRequest(row.data));
    return rows.length > options.limit && last
      ? { requests, cursor: encodeCursor({ dueAt: last.due_at, id: last.id }) }
      : { requests };
  }

  async listWithPendingEffects(limit: number): Promise<JitRequest[]> {
    return this.requests(this.hot.listOutbox.all(sqlLimit(limit)));
  }

  // ---- inbound delivery de-duplication and the durable inbox ----

  async claimDelivery(platform: Platform, deliveryId: string, now: number, ttlMs: number): Promise<boolean> {
    this.housekeeping(now);
    return this.hot.claimDelivery.run(platform, deliveryId, now + ttlMs, now).changes === 1;
  }

  async releaseDelivery(platform: Platform, deliveryId: string): Promise<void> {
    this.hot.releaseDelivery.run(platform, deliveryId);
  }

  async recordInboundEvent(event: InboundEvent, receivedAt: number, dedupeMs: number): Promise<boolean> {
    assertInboundEvent(event);
    this.housekeeping(receivedAt);
    const row = {
      platform: event.platform,
      delivery_id: event.deliveryId,
      expires_at: receivedAt + dedupeMs,
      received_at: receivedAt,
      event: JSON.stringify(event),
      now: receivedAt,
    };
    return this.hot.recordInbound.run(row).changes === 1;
  }

  async markInboundEventProcessed(platform: Platform, deliveryId: string): Promise<boolean> {
    return this.hot.markInboundProcessed.run(platform, deliveryId).changes === 1;
  }

  async listUnprocessedInboundEvents(limit: number): Promise<StoredInboundEvent[]> {
    const rows = this.hot.listInbound.all(sqlLimit(limit)) as { event: string; received_at: number }[];
    return rows.map((row) => ({ event: JSON.parse(row.event) as InboundEvent, receivedAt: row.received_at }));
  }

  // ---- durable records ----

  async putRecord(namespace: string, record: DurableRecord, expectedVersion?: number): Promise<boolean> {
    assertExpectedVersion(expectedVersion);
    const row = { namespace, key: record.key, ord: record.order ?? null, data: recordJson(namespace, record) };
    if (expectedVersion === undefined) return this.other.putRecord.run(row).changes === 1;
    if (expectedVersion === 0) return this.other.insertRecord.run(row).changes === 1;
    return this.other.replaceRecord.run({ ...row, expected: expectedVersion }).changes === 1;
  }

  async getRecord(namespace: string, key: string): Promise<StoredRecord | undefined> {
    assertRecordName(namespace, key);
    const row = this.hot.getRecord.get(namespace, key) as RecordRow | undefined;
    return row ? parseRecord(row) : undefined;
  }

  async listRecords(
    namespace: string,
    options: { limit: number; by?: 'key' | 'order'; newestFirst?: boolean },
  ): Promise<StoredRecord[]> {
    assertNamespace(namespace);
    const statement =
      options.by === 'order'
        ? options.newestFirst
          ? this.hot.listRecordsByOrderDesc
          : this.hot.listRecordsByOrder
        : options.newestFirst
          ? this.hot.listRecordsByKeyDesc
          : this.hot.listRecordsByKey;
    return (statement.all(namespace, sqlLimit(options.limit)) as RecordRow[]).map(parseRecord);
  }

  async deleteRecord(namespace: string, key: string): Promise<boolean> {
    assertRecordName(namespace, key);
    return this.other.deleteRecord.run(namespace, key).changes === 1;
  }

  // ---- channel mappings ----

  async listChannelMappings(): Promise<ChannelMapping[]> {
    return (this.other.listChannelMappings.all() as { data: string }[]).map(
      (row) => JSON.parse(row.data) as ChannelMapping,
    );
  }

  async putChannelMapping(mapping: ChannelMapping): Promise<void> {
    this.other.putChannelMapping.run(mapping.platform, mapping.channelId, JSON.stringify(mapping));
  }

  async deleteChannelMapping(platform: Platform, channelId: string): Promise<boolean> {
    return this.other.deleteChannelMapping.run(platform, channelId).changes === 1;
  }

  // ---- audit ----

  async appendAudit(input: AuditInput): Promise<AuditEvent> {
    // Each append is one immediate (write-locked) transaction, run synchronously: appends from this process cannot
    // interleave, and another process's append waits for the lock. Only a lock held past the busy timeout fails;
    // then the append waits and tries again, as long as it takes.
    for (let attempt = 1; ; attempt++) {
      try {
        const event = this.db.transaction(() => this.appendInTransaction(input)).immediate();
        this.auditHead = { seq: event.seq, hash: event.hash };
        return event;
      } catch (error) {
        this.auditHead = undefined;
        if (!isBusy(error)) throw error;
        await sleep(Math.random() * Math.min(AUDIT_BUSY_BACKOFF_MAX_MS, 50 * 2 ** attempt));
      }
    }
  }

  /** Inside the write transaction: move the head from the cached value (compare-and-set), insert the event. */
  private appendInTransaction(input: AuditInput): AuditEvent {
    let head = this.auditHead ?? this.readAuditHead();
    let event = chainedEvent(input, head);
    if (!this.moveAuditHead(head, event)) {
      // Another process appended since our last append: chain onto what is in the file now. We hold the write
      // lock, so this second compare-and-set cannot lose.
      head = this.readAuditHead();
      event = chainedEvent(input, head);
      if (!this.moveAuditHead(head, event))
        throw new Error('appendAudit: the audit head moved inside a write transaction');
    }
    this.hot.insertAudit.run(event.seq, event.at, JSON.stringify(event));
    return event;
  }

  private moveAuditHead(head: AuditHead | undefined, event: AuditEvent): boolean {
    const next = { seq: event.seq, hash: event.hash };
    const statement = head ? this.hot.moveAuditHead : this.hot.createAuditHead;
    return statement.run(head ? { ...next, expected: head.seq } : next).changes === 1;
  }

  private readAuditHead(): AuditHead | undefined {
    const head = this.hot.auditAnchor.get('head') as { seq: number; hash: string } | undefined;
    return head ? { seq: head.seq, hash: head.hash } : undefined;
  }

  async listAudit(options: { since?: number; limit?: number; newestFirst?: boolean } = {}): Promise<AuditEvent[]> {
    const statement = options.newestFirst ? this.other.listAuditSinceDesc : this.other.listAuditSince;
    const rows = statement.all(
      options.since ?? Number.MIN_SAFE_INTEGER,
      sqlLimit(options.limit ?? Number.POSITIVE_INFINITY),
    );
    return (rows as { data: string }[]).map((row) => JSON.parse(row.data) as AuditEvent);
  }

  async getAuditAnchors(): Promise<AuditAnchors> {
    return this.db.transaction(() => {
      const anchors: AuditAnchors = {};
      const head = this.readAuditHead();
      const pruned = this.hot.auditAnchor.get('pruned') as { seq: number; hash: string; at: number } | undefined;
      if (head) anchors.head = head;
      if (pruned) anchors.pruned = { seq: pruned.seq, hash: pruned.hash, at: pruned.at };
      return anchors;
    })();
  }

  async pruneAudit(now: number): Promise<number> {
    const cutoff = now - this.auditRetentionMs;
    let pruned = 0;
    for (;;) {
      const batch = this.db
        .transaction(() => {
          const rows = this.other.listAuditOldest.all(PRUNE_BATCH) as { seq: number; at: number; data: string }[];
          const expired = takeWhile(rows, (row) => row.at < cutoff);
          const newest = expired.at(-1);
          if (!newest) return { count: 0, more: false };
          const event = JSON.parse(newest.data) as AuditEvent;
          // The pruning point goes in first, in the same transaction, so the chain never starts at an unexplained seq.
          this.other.setPruningPoint.run({ seq: event.seq, hash: event.hash, at: event.at });
          this.other.deleteAuditThrough.run(event.seq);
          return { count: expired.length, more: expired.length === rows.length && rows.length === PRUNE_BATCH };
        })
        .immediate();
      pruned += batch.count;
      if (!batch.more) return pruned;
    }
  }

  // ---- leases ----

  async acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return this.hot.acquireLease.run({ name, owner, expires_at: now + ttlMs, now }).changes === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.hot.releaseLease.run(name, owner);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // ---- helpers ----

  private requests(rows: unknown[]): JitRequest[] {
    return (rows as { data: string }[]).map((row) => parseRequest(row.data));
  }

  /** At most once a minute (by the callers' clock): drop expired delivery records and long-expired leases. */
  private housekeeping(now: number): void {
    if (now < this.nextHousekeepingAt) return;
    this.nextHousekeepingAt = now + HOUSEKEEPING_EVERY_MS;
    this.other.deleteExpiredDeliveries.run(now, HOUSEKEEPING_BATCH);
    this.other.deleteExpiredLeases.run(now - EXPIRED_LEASE_GRACE_MS);
  }
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const stored = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as
    | { value: string }
    | undefined;
  if (stored && Number(stored.value) > SCHEMA_VERSION) {
    throw new Error(
      `the embedded store was written by a newer jitbot (schema ${stored.value}; this version reads ${SCHEMA_VERSION})`,
    );
  }
  db.exec(SCHEMA);
  db.prepare(
    `INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  ).run(String(SCHEMA_VERSION));
}

function prepareAll<T extends Record<string, string>>(db: Database.Database, sql: T): Statements<T> {
  return Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)])) as Statements<T>;
}

function requesterKey(platform: Platform, userId: string): string {
  return `${platform}#${userId}`;
}

/** The row for a request: its JSON and the index columns derived from it (exported for tests that seed in bulk). */
export function requestRow(request: JitRequest): RequestRow {
  const dueKind = dueKindOf(request);
  const dueAt = nextDueAt(request);
  const due = dueKind !== undefined && dueAt !== undefined;
  return {
    id: request.id,
    version: request.version,
    data: JSON.stringify(request),
    requester: requesterKey(request.requester.platform, request.requester.userId),
    created_at: request.createdAt,
    due_kind: due ? dueKind : null,
    due_at: due ? dueAt : null,
    outbox_at: request.outbox.length > 0 ? request.updatedAt : null,
  };
}

function parseRequest(data: string): JitRequest {
  return JSON.parse(data) as JitRequest;
}

function parseRecord(row: RecordRow): StoredRecord {
  const record: StoredRecord = { key: row.key, value: JSON.parse(row.data) as unknown, version: row.version };
  if (row.ord !== null) record.order = row.ord;
  return record;
}

function chainedEvent(input: AuditInput, head: AuditHead | undefined): AuditEvent {
  const seq = head ? head.seq + 1 : 1;
  const prevHash = head ? head.hash : GENESIS_HASH;
  return { ...input, seq, prevHash, hash: hashAuditEvent(prevHash, input, seq) };
}

/** SQLite's LIMIT: a non-negative integer; -1 means no limit (never pass a negative count by accident). */
function sqlLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : -1;
}

function takeWhile<T>(items: readonly T[], keep: (item: T) => boolean): T[] {
  const end = items.findIndex((item) => !keep(item));
  return end === -1 ? [...items] : items.slice(0, end);
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
