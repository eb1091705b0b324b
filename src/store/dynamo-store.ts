import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
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
import { consistentBatchGet, sleep } from './batch-get';
import { assertPageLimit, decodeCursor, encodeCursor } from './cursor';
import {
  assertExpectedVersion,
  assertInboundEvent,
  assertNamespace,
  assertRecordName,
  recordJson,
} from './input-checks';
import {
  AUDIT_ANCHORS_PK,
  AUDIT_PK,
  CHANNELS_PK,
  INBOX_PARTITION,
  auditHeadKey,
  auditKey,
  auditPrunedKey,
  channelKey,
  deliveryKey,
  duePartition,
  leaseKey,
  recordKey,
  recordPartition,
  requestKey,
  requesterPartition,
  OUTBOX_PARTITION,
  RECENT_PARTITION,
  type ItemKey,
} from './keys';
import { fromRequestItem, toRequestItem } from './request-item';
import { ATTR, INDEX, errorName } from './table';

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Audit events older than this are deleted by `pruneAudit` (default 400 days). */
  auditRetentionDays?: number;
}

const DAY_SECONDS = 86_400;
/** Leases and delivery records linger this long after expiry before TTL may remove them (housekeeping only). */
const EXPIRED_RECORD_GRACE_SECONDS = DAY_SECONDS;
/** Appends committed together by one head write: at most this many events, and about this much JSON. */
const AUDIT_EVENTS_PER_WRITE = 24;
const AUDIT_BYTES_PER_WRITE = 200_000;
const AUDIT_BACKOFF_FIRST_MS = 5;
const AUDIT_BACKOFF_MAX_MS = 1_000;
const PRUNE_PAGE = 100;
const BATCH_WRITE_MAX = 25;

type BatchWriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: ItemKey } };

interface QueuedAppend {
  input: AuditInput;
  resolve: (event: AuditEvent) => void;
  reject: (error: unknown) => void;
}

/**
 * What this process knows of the head record. `stored` is false while there is none yet; `pending` are the events
 * the head announced that may not be written as items yet (empty once this process wrote them).
 */
interface KnownHead {
  head: AuditHead | undefined;
  stored: boolean;
  pending: AuditEvent[];
}

/** The Store port over one DynamoDB table (see docs/store.md for the layout). */
export class DynamoStore implements Store {
  private readonly client: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly auditRetentionMs: number;
  private readonly auditQueue: QueuedAppend[] = [];
  private auditDraining = false;
  /** The head as of this process's last append; undefined: read it before the next one. */
  private knownHead: KnownHead | undefined;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = options.tableName;
    const retentionDays = options.auditRetentionDays ?? 400;
    if (!(retentionDays > 0)) throw new Error('auditRetentionDays must be positive');
    this.auditRetentionMs = Math.round(retentionDays * DAY_SECONDS * 1000);
  }

  // ---- requests ----

  async createRequest(request: JitRequest): Promise<boolean> {
    return this.conditionalPut(toRequestItem(request), 'attribute_not_exists(pk)');
  }

  async getRequest(id: string): Promise<JitRequest | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: requestKey(id), ConsistentRead: true }),
    );
    return Item ? fromRequestItem(Item) : undefined;
  }

  async saveRequest(request: JitRequest, expectedVersion: number): Promise<boolean> {
    if (request.version !== expectedVersion + 1) {
      throw new Error(
        `saveRequest(${request.id}): version must be expectedVersion + 1 (got ${request.version}, expected ${expectedVersion + 1})`,
      );
    }
    return this.conditionalPut(
      toRequestItem(request),
      '#version = :expected',
      { '#version': 'version' },
      {
        ':expected': expectedVersion,
      },
    );
  }

  async listRequestsByRequester(platform: Platform, userId: string, limit: number): Promise<JitRequest[]> {
    const items = await this.queryItems(
      {
        IndexName: INDEX.byRequester,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': ATTR.requesterPk },
        ExpressionAttributeValues: { ':p': requesterPartition(platform, userId) },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map(fromRequestItem);
  }

  async listRecentRequests(limit: number): Promise<JitRequest[]> {
    const items = await this.queryItems(
      {
        IndexName: INDEX.recent,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': ATTR.recentPk },
        ExpressionAttributeValues: { ':p': RECENT_PARTITION },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map(fromRequestItem);
  }

  async listDue(kind: DueKind, dueBy: number, limit: number): Promise<JitRequest[]> {
    const query: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: INDEX.due,
      KeyConditionExpression: '#p = :p AND #at <= :dueBy',
      ExpressionAttributeNames: { '#p': ATTR.duePk, '#at': ATTR.dueAt },
      ExpressionAttributeValues: { ':p': duePartition(kind), ':dueBy': dueBy },
    };
    const stillDue = (request: JitRequest) => {
      const dueAt = nextDueAt(request);
      return dueKindOf(request) === kind && dueAt !== undefined && dueAt <= dueBy;
    };
    const { items: due } = await this.readFreshFromIndex(query, limit, requestIf(stillDue));
    return due.sort((a, b) => (nextDueAt(a) ?? 0) - (nextDueAt(b) ?? 0));
  }

  async listWithPendingEffects(limit: number): Promise<JitRequest[]> {
    const query: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: INDEX.outbox,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': ATTR.outboxPk },
      ExpressionAttributeValues: { ':p': OUTBOX_PARTITION },
    };
    const { items } = await this.readFreshFromIndex(
      query,
      limit,
      requestIf((request) => request.outbox.length > 0),
    );
    return items;
  }

  async listActivePage(options: {
    limit: number;
    cursor?: string;
  }): Promise<{ requests: JitRequest[]; cursor?: string }> {
    assertPageLimit(options.limit);
    const query: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: INDEX.due,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': ATTR.duePk },
      ExpressionAttributeValues: { ':p': duePartition('active') },
    };
    const startKey = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const page = await this.readFreshFromIndex(
      query,
      options.limit,
      requestIf((request) => request.status === 'active'),
      startKey,
    );
    return page.nextKey ? { requests: page.items, cursor: encodeCursor(page.nextKey) } : { requests: page.items };
  }

  // ---- inbound delivery de-duplication and the durable inbox ----

  async claimDelivery(platform: Platform, deliveryId: string, now: number, ttlMs: number): Promise<boolean> {
    const expiresAt = now + ttlMs;
    return this.conditionalPut(
      {
        ...deliveryKey(platform, deliveryId),
        type: 'delivery',
        state: 'claimed',
        expiresAt,
        [ATTR.ttl]: epochSeconds(expiresAt) + EXPIRED_RECORD_GRACE_SECONDS,
      },
      REPLACEABLE_DELIVERY,
      { '#expiresAt': 'expiresAt', '#state': 'state' },
      { ':now': now, ':pending': 'pending' },
    );
  }

  async releaseDelivery(platform: Platform, deliveryId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: deliveryKey(platform, deliveryId) }));
  }

  async recordInboundEvent(event: InboundEvent, receivedAt: number, dedupeMs: number): Promise<boolean> {
    assertInboundEvent(event);
    const expiresAt = receivedAt + dedupeMs;
    return this.conditionalPut(
      {
        ...deliveryKey(event.platform, event.deliveryId),
        type: 'delivery',
        state: 'pending',
        expiresAt,
        receivedAt,
        event,
        // No TTL while pending: DynamoDB must never delete an event that still has to be processed.
        ttlOnceProcessed: epochSeconds(expiresAt) + EXPIRED_RECORD_GRACE_SECONDS,
        [ATTR.outboxPk]: INBOX_PARTITION,
        [ATTR.outboxAt]: receivedAt,
      },
      REPLACEABLE_DELIVERY,
      { '#expiresAt': 'expiresAt', '#state': 'state' },
      { ':now': receivedAt, ':pending': 'pending' },
    );
  }

  async markInboundEventProcessed(platform: Platform, deliveryId: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: deliveryKey(platform, deliveryId),
      UpdateExpression: 'SET #state = :processed, #ttl = #ttlLater REMOVE #ttlLater, #event, #outboxPk, #outboxAt',
      ConditionExpression: '#state = :pending',
      ExpressionAttributeNames: {
        '#state': 'state',
        '#ttl': ATTR.ttl,
        '#ttlLater': 'ttlOnceProcessed',
        '#event': 'event',
        '#outboxPk': ATTR.outboxPk,
        '#outboxAt': ATTR.outboxAt,
      },
      ExpressionAttributeValues: { ':processed': 'processed', ':pending': 'pending' },
    });
  }

  async listUnprocessedInboundEvents(limit: number): Promise<StoredInboundEvent[]> {
    const query: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: INDEX.outbox,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': ATTR.outboxPk },
      ExpressionAttributeValues: { ':p': INBOX_PARTITION },
    };
    const { items } = await this.readFreshFromIndex(query, limit, (item) =>
      item.state === 'pending' ? { event: item.event as InboundEvent, receivedAt: Number(item.receivedAt) } : undefined,
    );
    return items;
  }

  // ---- durable records ----

  async putRecord(namespace: string, record: DurableRecord, expectedVersion?: number): Promise<boolean> {
    assertExpectedVersion(expectedVersion);
    // Stored as JSON would store it (undefined left out, …), so both stores hand back the same value.
    const value = JSON.parse(recordJson(namespace, record)) as unknown;
    const orderAttributes =
      record.order === undefined ? {} : { [ATTR.recentPk]: recordPartition(namespace), [ATTR.createdAt]: record.order };
    if (expectedVersion !== undefined) {
      // Compare-and-set: the whole item, version expected + 1, on condition.
      return this.conditionalPut(
        {
          ...recordKey(namespace, record.key),
          type: 'record',
          key: record.key,
          data: value,
          version: expectedVersion + 1,
          ...orderAttributes,
        },
        expectedVersion === 0 ? 'attribute_not_exists(pk)' : '#version = :expected',
        expectedVersion === 0 ? undefined : { '#version': 'version' },
        expectedVersion === 0 ? undefined : { ':expected': expectedVersion },
      );
    }
    // Last writer wins, and the version still counts every write.
    const names: Record<string, string> = { '#type': 'type', '#key': 'key', '#data': 'data', '#version': 'version' };
    const values: Record<string, unknown> = {
      ':type': 'record',
      ':key': record.key,
      ':data': value,
      ':zero': 0,
      ':one': 1,
    };
    let update = 'SET #type = :type, #key = :key, #data = :data, #version = if_not_exists(#version, :zero) + :one';
    names['#orderPk'] = ATTR.recentPk;
    names['#order'] = ATTR.createdAt;
    if (record.order === undefined) {
      update += ' REMOVE #orderPk, #order';
    } else {
      update += ', #orderPk = :orderPk, #order = :order';
      values[':orderPk'] = recordPartition(namespace);
      values[':order'] = record.order;
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: recordKey(namespace, record.key),
        UpdateExpression: update,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  }

  async getRecord(namespace: string, key: string): Promise<StoredRecord | undefined> {
    assertRecordName(namespace, key);
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: recordKey(namespace, key), ConsistentRead: true }),
    );
    return Item ? fromRecordItem(Item) : undefined;
  }

  async listRecords(
    namespace: string,
    options: { limit: number; by?: 'key' | 'order'; newestFirst?: boolean },
  ): Promise<StoredRecord[]> {
    assertNamespace(namespace);
    const partition = recordPartition(namespace);
    const query: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'> =
      options.by === 'order'
        ? {
            IndexName: INDEX.recent,
            KeyConditionExpression: '#p = :p',
            ExpressionAttributeNames: { '#p': ATTR.recentPk },
            ExpressionAttributeValues: { ':p': partition },
          }
        : { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': partition }, ConsistentRead: true };
    const items = await this.queryItems({ ...query, ScanIndexForward: !options.newestFirst }, options.limit);
    return items.map(fromRecordItem);
  }

  async deleteRecord(namespace: string, key: string): Promise<boolean> {
    assertRecordName(namespace, key);
    const { Attributes } = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: recordKey(namespace, key), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }

  // ---- channel mappings ----

  async listChannelMappings(): Promise<ChannelMapping[]> {
    const items = await this.queryItems(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': CHANNELS_PK },
        ConsistentRead: true,
      },
      Number.POSITIVE_INFINITY,
    );
    return items.map((item) => item.data as ChannelMapping);
  }

  async putChannelMapping(mapping: ChannelMapping): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...channelKey(mapping.platform, mapping.channelId), type: 'channel', data: mapping },
      }),
    );
  }

  async deleteChannelMapping(platform: Platform, channelId: string): Promise<boolean> {
    const { Attributes } = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: channelKey(platform, channelId), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }

  // ---- audit ----

  appendAudit(input: AuditInput): Promise<AuditEvent> {
    return new Promise((resolve, reject) => {
      this.auditQueue.push({ input, resolve, reject });
      void this.drainAuditQueue();
    });
  }

  /**
   * One drain loop per process: appends wait in the queue and are committed in order, many per head write, so a
   * burst costs a few writes instead of a storm of conflicts.
   */
  private async drainAuditQueue(): Promise<void> {
    if (this.auditDraining) return;
    this.auditDraining = true;
    try {
      while (this.auditQueue.length > 0) {
        const batch = this.takeAuditBatch();
        try {
          const events = await this.appendBatch(batch.map((queued) => queued.input));
          batch.forEach((queued, i) => queued.resolve(events[i]!));
        } catch (error) {
          batch.forEach((queued) => queued.reject(error));
        }
      }
    } finally {
      this.auditDraining = false;
    }
  }

  /** The next appends to commit together: the head record carries them, and an item holds at most 400 KB. */
  private takeAuditBatch(): QueuedAppend[] {
    let bytes = 0;
    let count = 0;
    while (count < this.auditQueue.length && count < AUDIT_EVENTS_PER_WRITE) {
      bytes += JSON.stringify(this.auditQueue[count]!.input).length;
      if (count > 0 && bytes > AUDIT_BYTES_PER_WRITE) break;
      count++;
    }
    return this.auditQueue.splice(0, count);
  }

  /**
   * The head record is the sequencer. Moving it from seq h to h + n with a conditional write (its seq must still be
   * h) claims seqs h+1 … h+n for these events, so two replicas can never chain onto the same event; the loser
   * re-reads the head and tries again after a jittered, growing pause (capped at 1 s), until it lands. The head
   * carries the events themselves ("pending"), and only then are they written as items (idempotent Puts): if this
   * process dies in between, whoever reads the head next writes them, so a claimed seq is never left empty.
   */
  private async appendBatch(inputs: AuditInput[]): Promise<AuditEvent[]> {
    for (let attempt = 1; ; attempt++) {
      const known = this.knownHead ?? (await this.readAuditHead());
      // Every event up to the head must exist before the head moves past it.
      await this.writeAuditItems(known.pending);
      const events = chainEvents(inputs, known.head);
      const newest = events.at(-1)!;
      const moved = await this.conditionalPut(
        { ...auditHeadKey, type: 'audit-head', seq: newest.seq, hash: newest.hash, pending: events },
        known.stored ? '#seq = :expected' : 'attribute_not_exists(pk)',
        known.stored ? { '#seq': 'seq' } : undefined,
        known.stored ? { ':expected': known.head?.seq ?? 0 } : undefined,
      ).catch((error: unknown) => {
        this.knownHead = undefined;
        throw error;
      });
      if (moved) {
        // Committed: the head holds the events. Writing them as items can fail and be done later (the next append,
        // or anyone reading the anchors, writes them), so the callers are not told to append them again.
        const known: KnownHead = { head: { seq: newest.seq, hash: newest.hash }, stored: true, pending: events };
        this.knownHead = known;
        await this.writeAuditItems(events).then(
          async () => {
            known.pending = [];
            await this.clearPending(known.head!);
          },
          () => undefined,
        );
        return events;
      }
      this.knownHead = undefined;
      const step = Math.min(AUDIT_BACKOFF_MAX_MS, AUDIT_BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 10));
      await sleep(Math.random() * step);
    }
  }

  /**
   * Once its events are items, the head stops carrying them (unless it has moved on): an event deleted later must
   * stay deleted, so that verification sees the gap.
   */
  private async clearPending(head: AuditHead): Promise<void> {
    await this.conditionalPut(
      { ...auditHeadKey, type: 'audit-head', seq: head.seq, hash: head.hash },
      '#seq = :seq',
      { '#seq': 'seq' },
      { ':seq': head.seq },
    ).catch(
      () => undefined, // harmless: the next head write replaces the pending events anyway
    );
  }

  private async writeAuditItems(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.batchWrite(
      events.map((event) => ({ PutRequest: { Item: { ...auditKey(event.seq), type: 'audit', data: event } } })),
    );
  }

  /** The head record; without one (nothing appended yet), the newest event, if any. */
  private async readAuditHead(): Promise<KnownHead> {
    const anchors = await this.readAnchorItems();
    if (anchors.head) return { head: anchors.head, stored: true, pending: anchors.pending };
    const [newest] = await this.queryItems(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': AUDIT_PK },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      1,
    );
    const event = newest?.data as AuditEvent | undefined;
    return { head: event ? { seq: event.seq, hash: event.hash } : undefined, stored: false, pending: [] };
  }

  /** Head and pruning point in one consistent Query; `pending` leaves out what pruning has already removed. */
  private async readAnchorItems(): Promise<AuditAnchors & { pending: AuditEvent[] }> {
    const items = await this.queryItems(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': AUDIT_ANCHORS_PK },
        ConsistentRead: true,
      },
      Number.POSITIVE_INFINITY,
    );
    const anchors: AuditAnchors & { pending: AuditEvent[] } = { pending: [] };
    let pending: AuditEvent[] = [];
    for (const item of items) {
      if (item.sk === auditHeadKey.sk) {
        anchors.head = { seq: Number(item.seq), hash: String(item.hash) };
        pending = (item.pending ?? []) as AuditEvent[];
      }
      if (item.sk === auditPrunedKey.sk)
        anchors.pruned = { seq: Number(item.seq), hash: String(item.hash), at: Number(item.at) };
    }
    anchors.pending = pending.filter((event) => event.seq > (anchors.pruned?.seq ?? 0));
    return anchors;
  }

  /**
   * Oldest first (by seq). `since` is an instant (epoch ms): only events with `at >= since`. Appends are
   * serialised but `at` comes from each writer's clock, so this is a filter over the retained log, not a range.
   */
  async listAudit(options: { since?: number; limit?: number; newestFirst?: boolean } = {}): Promise<AuditEvent[]> {
    const { since } = options;
    const items = await this.queryItems(
      {
        KeyConditionExpression: 'pk = :pk',
        ConsistentRead: true,
        ScanIndexForward: !options.newestFirst,
        ...(since === undefined
          ? { ExpressionAttributeValues: { ':pk': AUDIT_PK } }
          : {
              FilterExpression: '#data.#at >= :since',
              ExpressionAttributeNames: { '#data': 'data', '#at': 'at' },
              ExpressionAttributeValues: { ':pk': AUDIT_PK, ':since': since },
            }),
      },
      options.limit ?? Number.POSITIVE_INFINITY,
    );
    return items.map((item) => item.data as AuditEvent);
  }

  /** Also writes the events the head announced, if a crashed appender left them unwritten, so the list agrees. */
  async getAuditAnchors(): Promise<AuditAnchors> {
    const { pending, ...anchors } = await this.readAnchorItems();
    if (pending.length > 0 && anchors.head) {
      await this.writeAuditItems(pending);
      await this.clearPending(anchors.head);
    }
    return anchors;
  }

  /**
   * Reads the oldest events a page at a time; the expired prefix of each page is pruned by first recording its
   * newest event as the pruning point (only ever moved forward), then deleting the events.
   */
  async pruneAudit(now: number): Promise<number> {
    const cutoff = now - this.auditRetentionMs;
    let pruned = 0;
    for (;;) {
      const page = await this.queryItems(
        { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': AUDIT_PK }, ConsistentRead: true },
        PRUNE_PAGE,
      );
      const events = page.map((item) => item.data as AuditEvent);
      const stop = events.findIndex((event) => !(event.at < cutoff));
      const expired = stop === -1 ? events : events.slice(0, stop);
      const newest = expired.at(-1);
      if (!newest) return pruned;
      await this.conditionalPut(
        { ...auditPrunedKey, type: 'audit-pruned', seq: newest.seq, hash: newest.hash, at: newest.at },
        'attribute_not_exists(pk) OR #seq < :seq',
        { '#seq': 'seq' },
        { ':seq': newest.seq },
      );
      await this.batchWrite(expired.map((event) => ({ DeleteRequest: { Key: auditKey(event.seq) } })));
      pruned += expired.length;
      if (expired.length < PRUNE_PAGE) return pruned;
    }
  }

  // ---- leases ----

  async acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const expiresAt = now + ttlMs;
    return this.conditionalPut(
      {
        ...leaseKey(name),
        type: 'lease',
        owner,
        expiresAt,
        [ATTR.ttl]: epochSeconds(expiresAt) + EXPIRED_RECORD_GRACE_SECONDS,
      },
      'attribute_not_exists(pk) OR #expiresAt < :now OR #owner = :owner',
      { '#expiresAt': 'expiresAt', '#owner': 'owner' },
      { ':now': now, ':owner': owner },
    );
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: leaseKey(name),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      // Not ours (or already gone): nothing to release.
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  // ---- helpers ----

  /** Put that returns false instead of throwing when the condition does not hold. */
  private async conditionalPut(
    item: Record<string, unknown>,
    condition: string,
    names?: Record<string, string>,
    values?: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** UpdateItem that returns false instead of throwing when the condition does not hold. */
  private async conditionalUpdate(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ ...input, TableName: this.tableName }));
      return true;
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** BatchWriteItem, 25 requests at a time, retrying unprocessed ones. */
  private async batchWrite(requests: BatchWriteRequest[]): Promise<void> {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_MAX) {
      let pending = requests.slice(start, start + BATCH_WRITE_MAX);
      for (let round = 0; pending.length > 0; round++) {
        if (round === 8) throw new Error(`BatchWriteItem left ${pending.length} writes unprocessed after 8 rounds`);
        if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
        const output = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (output.UnprocessedItems?.[this.tableName] ?? []) as BatchWriteRequest[];
      }
    }
  }

  /** Runs a Query page by page until `limit` items (or the end); returns the items as stored in the table/index. */
  private async queryItems(
    query: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    limit: number,
  ): Promise<Record<string, unknown>[]> {
    limit = Math.floor(limit);
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const remaining = limit - items.length;
      if (remaining <= 0) break;
      const page = await this.doc.send(
        new QueryCommand({
          ...query,
          TableName: this.tableName,
          // Limit counts items read before a filter, so filtered queries read whole pages and trim at the end.
          Limit: Number.isFinite(remaining) && !query.FilterExpression ? remaining : undefined,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.slice(0, limit);
  }

  /**
   * Reads item keys from a (keys-only, eventually consistent) index, re-reads each item with a strongly consistent
   * read and keeps what `parse` returns (undefined: no longer qualifies), so callers act on fresh state. Stops at
   * `limit`. `nextKey` is where a further read would continue (absent once the index has no more entries).
   */
  private async readFreshFromIndex<T>(
    query: QueryCommandInput,
    limit: number,
    parse: (item: Record<string, unknown>) => T | undefined,
    startAt?: Record<string, unknown>,
  ): Promise<{ items: T[]; nextKey?: Record<string, unknown> }> {
    limit = Math.floor(limit);
    const fresh: T[] = [];
    let startKey = startAt;
    do {
      const remaining = limit - fresh.length;
      if (remaining <= 0) break;
      const page = await this.doc.send(new QueryCommand({ ...query, Limit: remaining, ExclusiveStartKey: startKey }));
      const keys = (page.Items ?? []).map((item): ItemKey => ({ pk: String(item.pk), sk: String(item.sk) }));
      const byPk = new Map((await consistentBatchGet(this.doc, this.tableName, keys)).map((item) => [item.pk, item]));
      for (const key of keys) {
        const item = byPk.get(key.pk);
        if (item === undefined) continue; // deleted since the index was read
        const parsed = parse(item);
        if (parsed !== undefined) fresh.push(parsed);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // Each Query asks for at most the items still missing, so `fresh` never exceeds `limit` and nothing read is skipped.
    return { items: fresh, nextKey: startKey };
  }
}

/** A delivery record may be replaced once it has expired, unless it is an event still waiting to be processed. */
const REPLACEABLE_DELIVERY = 'attribute_not_exists(pk) OR (#expiresAt < :now AND #state <> :pending)';

function requestIf(keep: (request: JitRequest) => boolean): (item: Record<string, unknown>) => JitRequest | undefined {
  return (item) => {
    const request = fromRequestItem(item);
    return keep(request) ? request : undefined;
  };
}

function fromRecordItem(item: Record<string, unknown>): StoredRecord {
  const record: StoredRecord = { key: String(item.key), value: item.data, version: Number(item.version) };
  if (item[ATTR.recentPk] !== undefined) record.order = Number(item[ATTR.createdAt]);
  return record;
}

function chainEvents(inputs: AuditInput[], head: AuditHead | undefined): AuditEvent[] {
  let seq = head ? head.seq : 0;
  let prevHash = head ? head.hash : GENESIS_HASH;
  return inputs.map((input) => {
    seq += 1;
    const event: AuditEvent = { ...input, seq, prevHash, hash: hashAuditEvent(prevHash, input, seq) };
    prevHash = event.hash;
    return event;
  });
}

function epochSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
