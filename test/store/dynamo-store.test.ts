import {
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { GENESIS_HASH, hashAuditEvent, verifyAuditChain, type AuditEvent } from '../../src/core/audit-chain';
import type { JitRequest } from '../../src/core/model';
import { DynamoStore } from '../../src/store/dynamo-store';
import { auditHeadKey, deliveryKey, duePartition, requestKey } from '../../src/store/keys';
import { ATTR, INDEX, STORE_ACTIONS, ensureTable } from '../../src/store/table';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

// What only the DynamoDB store has to show: its indexes are eventually consistent (so work lists are re-read and
// what no longer qualifies is dropped), reads follow what is due, the audit head carries events until they are
// items, and TTL is set only on records nothing needs any more. The shared behaviour is in store-suite.ts.

const endpoint = process.env.MOTO_ENDPOINT;
if (!endpoint) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T = FIXTURE_NOW;
const runId = `${process.pid}-${Date.now().toString(36)}`;
let tables = 0;

let client: DynamoDBClient;
let tableName: string;
let store: DynamoStore;

beforeEach(async () => {
  client = new DynamoDBClient({
    endpoint,
    region: 'cn-north-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  tableName = `jitbot-dynamo-${runId}-${++tables}`;
  await ensureTable(client, tableName);
  store = new DynamoStore({ client, tableName });
});
afterEach(async () => {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  await store.close();
});

const activeRequest = (id: string, expiresAt: number): JitRequest =>
  makeRequest({
    id,
    status: 'active',
    currentLevel: 1,
    grant: { grantId: id, startsAt: expiresAt - 2 * HOUR, expiresAt, dryRun: false, summary: 'PutUserPolicy' },
  });

/** An item whose index attributes still say one thing while the request says another: a lagging index. */
async function putLagging(request: JitRequest, duePk: string, dueAt: number): Promise<void> {
  const item = {
    ...requestKey(request.id),
    version: request.version,
    data: request,
    [ATTR.duePk]: duePk,
    [ATTR.dueAt]: dueAt,
  };
  await client.send(
    new PutItemCommand({ TableName: tableName, Item: marshall(item, { removeUndefinedValues: true }) }),
  );
}

async function dueEntries(kind: 'pending' | 'active'): Promise<number> {
  const output = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: INDEX.due,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': ATTR.duePk },
      ExpressionAttributeValues: { ':p': { S: duePartition(kind) } },
    }),
  );
  return output.Count ?? 0;
}

describe('index entries are re-read', () => {
  it('listDue drops an entry the index still lists but whose request is no longer due', async () => {
    const request = makeRequest({ timeoutAt: T + HOUR });
    await store.createRequest(request);
    await putLagging({ ...request, status: 'cancelled', version: 2 }, duePartition('pending'), T);
    expect(await dueEntries('pending')).toBe(1);
    expect(await store.listDue('pending', T + 10 * HOUR, 10)).toEqual([]);
  });

  it('listActivePage leaves out a request the index still files under active', async () => {
    const active = Array.from({ length: 12 }, (_, i) =>
      activeRequest(`JIT-A${String(i).padStart(4, '0')}`, T + (i + 1) * MINUTE),
    );
    await Promise.all(active.map((request) => store.createRequest(request)));
    const ended = activeRequest('JIT-L0001', T + 6 * MINUTE);
    await putLagging(
      { ...ended, status: 'ended', version: 2, endedAt: T },
      duePartition('active'),
      ended.grant!.expiresAt,
    );
    expect(await dueEntries('active')).toBe(13);

    const first = await store.listActivePage({ limit: 10 });
    const second = await store.listActivePage({ limit: 10, cursor: first.cursor });
    expect([...first.requests, ...second.requests]).toEqual(active);
    expect(second.cursor).toBeUndefined();
  });
});

it('listDue reads only the due entries: 10 of 300 active requests', async () => {
  const requests = Array.from({ length: 300 }, (_, i) =>
    activeRequest(`JIT-${String(i).padStart(5, '0')}`, T + (i < 10 ? i : 100 + i) * MINUTE),
  );
  for (let start = 0; start < requests.length; start += 25) {
    await Promise.all(requests.slice(start, start + 25).map((request) => store.createRequest(request)));
  }
  let queryScanned = 0;
  let batchGetKeys = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'QueryCommand')
        queryScanned += (result.output as { ScannedCount?: number }).ScannedCount ?? 0;
      if (context.commandName === 'BatchGetItemCommand') {
        const requestItems = (args.input as { RequestItems?: Record<string, { Keys?: unknown[] }> }).RequestItems ?? {};
        batchGetKeys += Object.values(requestItems).reduce((sum, table) => sum + (table.Keys?.length ?? 0), 0);
      }
      return result;
    },
    { step: 'initialize', name: 'countReads' },
  );

  const due = await store.listDue('active', T + 10 * MINUTE, 100);

  expect(due.map((request) => request.id)).toEqual(requests.slice(0, 10).map((request) => request.id));
  expect(queryScanned).toBe(10);
  expect(batchGetKeys).toBe(10);
});

describe('audit head', () => {
  const input = (i: number) => ({
    at: T + i,
    actor: 'console:alice',
    action: 'request.create',
    requestId: `JIT-0000${i}`,
  });

  it('carries events an appender died before writing as items; the next reader writes them', async () => {
    const first = await store.appendAudit(input(1));
    // An appender moved the head to event 2 and died before writing event 2 as an item.
    const second: AuditEvent = {
      ...input(2),
      seq: 2,
      prevHash: first.hash,
      hash: hashAuditEvent(first.hash, input(2), 2),
    };
    const head = { ...auditHeadKey, type: 'audit-head', seq: 2, hash: second.hash, pending: [second] };
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: marshall(head, { removeUndefinedValues: true }) }),
    );
    expect(await store.listAudit()).toEqual([first]);

    // A fresh store (say, the CLI) reads the anchors: event 2 is written, and the chain verifies.
    const reader = new DynamoStore({ client, tableName });
    const anchors = await reader.getAuditAnchors();
    expect(anchors.head).toEqual({ seq: 2, hash: second.hash });
    expect(await reader.listAudit()).toEqual([first, second]);
    expect(verifyAuditChain(await reader.listAudit(), anchors)).toEqual({ ok: true, count: 2 });
    // … and the head no longer carries it, so deleting it later would show.
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(auditHeadKey), ConsistentRead: true }),
    );
    expect(unmarshall(Item!).pending).toBeUndefined();

    // A store whose cached head is stale chains on after event 2, not after event 1.
    const third = await store.appendAudit(input(3));
    expect(third).toMatchObject({ seq: 3, prevHash: second.hash });
  });

  it('starts from the genesis hash with no head and no events', async () => {
    expect(await store.appendAudit(input(1))).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
  });
});

describe('TTL is housekeeping for records nothing needs any more', () => {
  const ttlOf = async (platform: 'slack', deliveryId: string) => {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: marshall(deliveryKey(platform, deliveryId)),
        ConsistentRead: true,
      }),
    );
    return unmarshall(Item!)[ATTR.ttl] as number | undefined;
  };

  it('an unprocessed inbound event has none (DynamoDB must not delete it); once processed it gets one', async () => {
    const event = {
      kind: 'command' as const,
      platform: 'slack' as const,
      deliveryId: 'Ev1',
      actor: { platform: 'slack' as const, userId: 'U1', displayName: 'U1' },
      channel: { platform: 'slack' as const, channelId: 'C1' },
      text: 'help',
    };
    await store.recordInboundEvent(event, T, 10 * MINUTE);
    expect(await ttlOf('slack', 'Ev1')).toBeUndefined();
    await store.markInboundEventProcessed('slack', 'Ev1');
    expect(await ttlOf('slack', 'Ev1')).toBe(Math.ceil((T + 10 * MINUTE) / 1000) + 86_400);
  });

  it('audit events have none: pruning, which records the pruning point, removes them', async () => {
    await store.appendAudit({ at: T, actor: 'cli', action: 'channel.mapped' });
    const { Items } = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'AUDIT' } },
      }),
    );
    expect(Items).toHaveLength(1);
    expect(unmarshall(Items![0]!)[ATTR.ttl]).toBeUndefined();
  });
});

it('performs only the actions the bot policy and the CloudFormation template grant', async () => {
  const used = new Set<string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      used.add(`dynamodb:${String(context.commandName).replace(/Command$/, '')}`);
      return next(args);
    },
    { step: 'initialize', name: 'recordActions' },
  );
  const request = makeRequest({ outbox: [{ id: 'e1', kind: 'postCard' }] });
  await store.createRequest(request);
  await store.getRequest(request.id);
  await store.saveRequest({ ...request, version: 2 }, 1);
  await store.listRequestsByRequester('console', 'alice', 5);
  await store.listRecentRequests(5);
  await store.listDue('pending', T + 48 * HOUR, 5);
  await store.listActivePage({ limit: 5 });
  await store.listWithPendingEffects(5);
  await store.claimDelivery('slack', 'Ev1', T, MINUTE);
  await store.releaseDelivery('slack', 'Ev1');
  const event = {
    kind: 'command' as const,
    platform: 'slack' as const,
    deliveryId: 'Ev2',
    actor: { platform: 'slack' as const, userId: 'U1', displayName: 'U1' },
    channel: { platform: 'slack' as const, channelId: 'C1' },
    text: 'help',
  };
  await store.recordInboundEvent(event, T, MINUTE);
  await store.listUnprocessedInboundEvents(5);
  await store.markInboundEventProcessed('slack', 'Ev2');
  await store.putRecord('ns', { key: 'k', value: 1, order: 1 });
  await store.putRecord('ns', { key: 'k', value: 2 }, 1);
  await store.getRecord('ns', 'k');
  await store.listRecords('ns', { limit: 5 });
  await store.listRecords('ns', { limit: 5, by: 'order' });
  await store.deleteRecord('ns', 'k');
  await store.putChannelMapping({ platform: 'slack', channelId: 'C1', role: 'ops', mappedBy: 'cli', mappedAt: T });
  await store.listChannelMappings();
  await store.deleteChannelMapping('slack', 'C1');
  await store.appendAudit({ at: T, actor: 'cli', action: 'x' });
  await store.listAudit({ since: T });
  await store.getAuditAnchors();
  await store.pruneAudit(T + 401 * 24 * HOUR);
  await store.acquireLease('sweeper', 'a', T, MINUTE);
  await store.releaseLease('sweeper', 'a');

  expect([...used].filter((action) => !(STORE_ACTIONS as readonly string[]).includes(action))).toEqual([]);
  expect(used).toEqual(new Set(STORE_ACTIONS.filter((action) => action !== 'dynamodb:DescribeTable')));
});
