import { BatchWriteItemCommand, DynamoDBClient, QueryCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import pino from 'pino';
import type { JitRequest } from '../../src/core/model';
import { Scheduler } from '../../src/services/scheduler';
import { sleep } from '../../src/store/batch-get';
import { DynamoStore } from '../../src/store/dynamo-store';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/store/embedded-dynamodb';
import { duePartition } from '../../src/store/keys';
import { toRequestItem } from '../../src/store/request-item';
import { ATTR, DEFAULT_TABLE_NAME, INDEX, ensureTable } from '../../src/store/table';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';
import { ManualClock } from '../support/manual-clock';

// The sweeper's cost must follow what is due, not how many grants are active: with 100,000 active grants of which
// 100 have expired, one sweep reads about 100 entries of the due index and moves exactly those 100 requests to `revoking`.

const ACTIVE = 100_000;
const EXPIRED = 100;
const DAY = 86_400_000;
const NOW = FIXTURE_NOW;
const WRITES_PER_BATCH = 25; // BatchWriteItem's maximum
const BATCHES_IN_FLIGHT = 8;

jest.setTimeout(10 * 60_000);

const idOf = (i: number) => `JIT-${String(i).padStart(6, '0')}`;
/** Every 1,000th request has expired (at or before now); the others run for another month or more. */
const isExpired = (i: number) => i % (ACTIVE / EXPIRED) === 0;

function activeRequest(template: JitRequest, i: number): JitRequest {
  const expiresAt = isExpired(i) ? NOW - i : NOW + 30 * DAY + i;
  return {
    ...template,
    id: idOf(i),
    status: 'active',
    currentLevel: 1,
    grant: { grantId: idOf(i), startsAt: expiresAt - 2 * 3_600_000, expiresAt, dryRun: false, summary: 'PutUserPolicy' },
  };
}

/** Writes the items exactly as the store would, 25 per BatchWriteItem, several batches at a time. */
async function seed(client: DynamoDBClient, tableName: string): Promise<void> {
  const template = makeRequest();
  let next = 0;
  const writeBatches = async () => {
    while (next < ACTIVE) {
      const start = next;
      next = Math.min(ACTIVE, start + WRITES_PER_BATCH);
      let writes: WriteRequest[] = [];
      for (let i = start; i < next; i++) {
        const item = marshall(toRequestItem(activeRequest(template, i)), { removeUndefinedValues: true });
        writes.push({ PutRequest: { Item: item } });
      }
      for (let attempt = 0; writes.length > 0; attempt++) {
        if (attempt === 10) throw new Error(`BatchWriteItem left ${writes.length} items unprocessed`);
        if (attempt > 0) await sleep(25 * 2 ** attempt);
        const output = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: writes } }));
        writes = output.UnprocessedItems?.[tableName] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, writeBatches));
}

interface ReadCount {
  /** ScannedCount of Queries on the due index, per partition queried. */
  dueIndexScanned: Map<string, number>;
  /** Items read by any other Query. */
  otherQueryScanned: number;
  /** Items returned by BatchGetItem and GetItem. */
  itemsFetched: number;
}

/** Counts what DynamoDB read for every call the client makes from now on (a middleware on the parsed output). */
function countReads(client: DynamoDBClient): ReadCount {
  const count: ReadCount = { dueIndexScanned: new Map(), otherQueryScanned: 0, itemsFetched: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = args.input as Record<string, any>;
      const output = result.output as Record<string, any>;
      if (context.commandName === 'QueryCommand') {
        const scanned = Number(output.ScannedCount ?? output.Count ?? 0);
        if (input.IndexName === INDEX.due) {
          // The store's document client passes plain values; a low-level client passes AttributeValues.
          const value = input.ExpressionAttributeValues?.[':p'];
          const partition = String(typeof value === 'string' ? value : value?.S);
          count.dueIndexScanned.set(partition, (count.dueIndexScanned.get(partition) ?? 0) + scanned);
        } else {
          count.otherQueryScanned += scanned;
        }
      } else if (context.commandName === 'BatchGetItemCommand') {
        const responses = (output.Responses ?? {}) as Record<string, unknown[]>;
        count.itemsFetched += Object.values(responses).reduce((sum, items) => sum + items.length, 0);
      } else if (context.commandName === 'GetItemCommand') {
        count.itemsFetched += output.Item ? 1 : 0;
      }
      return result;
    },
    { step: 'initialize', name: 'countReads' },
  );
  return count;
}

describe(`one sweep over ${ACTIVE.toLocaleString('en')} active grants`, () => {
  let embedded: EmbeddedDynamoDb;
  let client: DynamoDBClient;
  let store: DynamoStore;

  beforeAll(async () => {
    embedded = await startEmbeddedDynamoDb({ inMemory: true });
    const clientConfig = {
      endpoint: embedded.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' },
    };
    client = new DynamoDBClient(clientConfig);
    await ensureTable(client, DEFAULT_TABLE_NAME);
    store = new DynamoStore({ client, tableName: DEFAULT_TABLE_NAME });

    const seeder = new DynamoDBClient(clientConfig);
    // The SDK's logger middleware redacts every input and output for its (no-op) logger: a quarter of the seeding time.
    seeder.middlewareStack.remove('loggerMiddleware');
    try {
      await seed(seeder, DEFAULT_TABLE_NAME);
    } finally {
      seeder.destroy();
    }
  });
  afterAll(async () => {
    await store?.close();
    await embedded?.close();
  });

  it('reads only the 100 due index entries and starts ending exactly those requests', async () => {
    const reads = countReads(client);
    const committed: string[] = [];
    const scheduler = new Scheduler({
      store,
      clock: new ManualClock(NOW),
      logger: pino({ level: 'silent' }),
      locale: 'en',
      timeZone: 'UTC',
      owner: 'sweep-scale',
      onCommitted: (requestId) => committed.push(requestId),
      // Far above what is due, so only the index's key condition can keep the read small.
      batchSize: 10 * EXPIRED,
    });

    const changed = await scheduler.sweep();

    const dueScanned = [...reads.dueIndexScanned.values()].reduce((sum, n) => sum + n, 0);
    expect(dueScanned).toBeGreaterThanOrEqual(EXPIRED);
    expect(dueScanned).toBeLessThanOrEqual(EXPIRED + 10);
    expect(reads.dueIndexScanned.get(duePartition('active'))).toBe(EXPIRED);
    expect(reads.otherQueryScanned).toBe(0);
    // Each due request is fetched twice: the consistent re-read after the index, then the read before its save.
    expect(reads.itemsFetched).toBeLessThanOrEqual(2 * EXPIRED + 10);

    const expiredIds = Array.from({ length: ACTIVE }, (_, i) => i).filter(isExpired).map(idOf);
    expect(changed).toBe(EXPIRED);
    expect([...committed].sort()).toEqual(expiredIds);
    const after = await Promise.all(expiredIds.map((id) => store.getRequest(id)));
    // Expiry hands them to the outbox's revoke: `revoking` until IAM has accepted the removal (no outbox runs here).
    expect(after.map((request) => request?.status)).toEqual(expiredIds.map(() => 'revoking'));
    expect((await store.getRequest(idOf(1)))?.status).toBe('active');
    expect(await store.listDue('active', NOW, 10 * EXPIRED)).toEqual([]);
    expect(await activePartitionSize()).toBe(ACTIVE - EXPIRED);
  });

  /** Entries in the active partition of the due index, counted straight from the index. */
  async function activePartitionSize(): Promise<number> {
    let entries = 0;
    let startKey: Record<string, any> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: DEFAULT_TABLE_NAME,
          IndexName: INDEX.due,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': ATTR.duePk },
          ExpressionAttributeValues: { ':p': { S: duePartition('active') } },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      entries += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return entries;
  }
});
