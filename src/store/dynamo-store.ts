import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { GENESIS_HASH, hashAuditEvent } from '../core/audit-chain';
import { dueKindOf, nextDueAt } from '../core/deadlines';
import type { JitRequest, Platform } from '../core/model';
import type { AuditEvent, AuditInput, ChannelMapping, DueKind, Store } from '../ports/store';
import { consistentBatchGet, sleep } from './batch-get';
import {
  AUDIT_PK,
  CHANNELS_PK,
  auditKey,
  channelKey,
  deliveryKey,
  duePartition,
  leaseKey,
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
  /** Audit events are deleted by DynamoDB TTL this long after they happened (default 400 days). */
  auditRetentionDays?: number;
}

const DAY_SECONDS = 86_400;
const AUDIT_APPEND_ATTEMPTS = 30;
/** Leases and delivery records linger this long after expiry before TTL may remove them (housekeeping only). */
const EXPIRED_RECORD_GRACE_SECONDS = DAY_SECONDS;

/** The Store port over one DynamoDB table (see docs/store.md for the layout). */
export class DynamoStore implements Store {
  private readonly client: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly auditRetentionSeconds: number;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = options.tableName;
    const retentionDays = options.auditRetentionDays ?? 400;
    if (!(retentionDays > 0)) throw new Error('auditRetentionDays must be positive');
    this.auditRetentionSeconds = Math.round(retentionDays * DAY_SECONDS);
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
    return this.conditionalPut(toRequestItem(request), '#version = :expected', { '#version': 'version' }, {
      ':expected': expectedVersion,
    });
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
    const { requests: due } = await this.readFreshFromIndex(query, limit, stillDue);
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
    const { requests } = await this.readFreshFromIndex(query, limit, (request) => request.outbox.length > 0);
    return requests;
  }

  async listActivePage(options: { limit: number; cursor?: string }): Promise<{ requests: JitRequest[]; cursor?: string }> {
    // A page of zero would hand back the cursor it was given, and a caller paging to the end would never finish.
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new Error(`listActivePage: limit must be a positive integer (got ${options.limit})`);
    }
    const query: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: INDEX.due,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': ATTR.duePk },
      ExpressionAttributeValues: { ':p': duePartition('active') },
    };
    const startKey = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const page = await this.readFreshFromIndex(query, options.limit, (request) => request.status === 'active', startKey);
    return page.nextKey ? { requests: page.requests, cursor: encodeCursor(page.nextKey) } : { requests: page.requests };
  }

  // ---- inbound delivery de-duplication ----

  async claimDelivery(platform: Platform, deliveryId: string, now: number, ttlMs: number): Promise<boolean> {
    const expiresAt = now + ttlMs;
    return this.conditionalPut(
      {
        ...deliveryKey(platform, deliveryId),
        type: 'delivery',
        expiresAt,
        [ATTR.ttl]: epochSeconds(expiresAt) + EXPIRED_RECORD_GRACE_SECONDS,
      },
      'attribute_not_exists(pk) OR #expiresAt < :now',
      { '#expiresAt': 'expiresAt' },
      { ':now': now },
    );
  }

  async releaseDelivery(platform: Platform, deliveryId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: deliveryKey(platform, deliveryId) }));
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

  async appendAudit(input: AuditInput): Promise<AuditEvent> {
    for (let attempt = 1; attempt <= AUDIT_APPEND_ATTEMPTS; attempt++) {
      const last = await this.lastAuditEvent();
      const seq = last ? last.seq + 1 : 1;
      const prevHash = last ? last.hash : GENESIS_HASH;
      const event: AuditEvent = { ...input, seq, prevHash, hash: hashAuditEvent(prevHash, input, seq) };
      const appended = await this.conditionalPut(
        {
          ...auditKey(seq),
          type: 'audit',
          data: event,
          [ATTR.ttl]: epochSeconds(input.at) + this.auditRetentionSeconds,
        },
        'attribute_not_exists(pk)',
      );
      if (appended) return event;
      // Someone else took this seq: back off a little (jittered, growing) and chain onto their event.
      await sleep(Math.random() * Math.min(200, 10 * attempt));
    }
    throw new Error(`appendAudit: gave up after ${AUDIT_APPEND_ATTEMPTS} attempts (audit log under heavy contention)`);
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

  private async lastAuditEvent(): Promise<AuditEvent | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': AUDIT_PK },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return Items?.[0]?.data as AuditEvent | undefined;
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
   * Reads request keys from a (keys-only, eventually consistent) index, re-reads each request with a strongly
   * consistent read and keeps the ones `keep` accepts, so callers act on fresh state. Stops at `limit`.
   * `nextKey` is where a further read would continue (absent once the index has no more entries).
   */
  private async readFreshFromIndex(
    query: QueryCommandInput,
    limit: number,
    keep: (request: JitRequest) => boolean,
    startAt?: Record<string, unknown>,
  ): Promise<{ requests: JitRequest[]; nextKey?: Record<string, unknown> }> {
    limit = Math.floor(limit);
    const fresh: JitRequest[] = [];
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
        const request = fromRequestItem(item);
        if (keep(request)) fresh.push(request);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // Each Query asks for at most the requests still missing, so `fresh` never exceeds `limit` and nothing read is skipped.
    return { requests: fresh, nextKey: startKey };
  }
}

/** Cursors are the index's LastEvaluatedKey as base64url JSON: opaque to callers, stateless for the store. */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const isKeyValue = (value: unknown) => typeof value === 'string' || typeof value === 'number';
  if (typeof key !== 'object' || key === null || Array.isArray(key) || !Object.values(key).every(isKeyValue)) {
    throw new Error('invalid page cursor');
  }
  return key as Record<string, unknown>;
}

function epochSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
