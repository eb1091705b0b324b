import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';

// The single table jitbot keeps everything in. docs/store.md describes every item type and why each index exists.

/** Attribute names used in keys and indexes. */
export const ATTR = {
  pk: 'pk',
  sk: 'sk',
  duePk: 'due_pk',
  dueAt: 'due_at',
  requesterPk: 'requester_pk',
  recentPk: 'recent_pk',
  createdAt: 'created_at',
  outboxPk: 'outbox_pk',
  outboxAt: 'outbox_at',
  /** DynamoDB TTL attribute (epoch seconds): housekeeping only, never a deadline. */
  ttl: 'ttl',
} as const;

export const INDEX = {
  /** Sparse: pending/active requests by their next deadline. Keys only; callers re-read the item. */
  due: 'due',
  /** Requests by requester, newest first. */
  byRequester: 'byRequester',
  /** All requests newest first (one constant partition). */
  recent: 'recent',
  /** Sparse: requests with effects waiting in their outbox. Keys only; callers re-read the item. */
  outbox: 'outbox',
} as const;

export const DEFAULT_TABLE_NAME = 'jitbot';

/**
 * Every DynamoDB action DynamoStore performs at run time (on the table, and Query also on its indexes). The bot
 * policy and the CloudFormation template grant exactly these; tests keep all three in step.
 */
export const STORE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:Query',
  'dynamodb:DescribeTable',
] as const;

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: ATTR.pk, KeyType: 'HASH' },
      { AttributeName: ATTR.sk, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: ATTR.pk, AttributeType: 'S' },
      { AttributeName: ATTR.sk, AttributeType: 'S' },
      { AttributeName: ATTR.duePk, AttributeType: 'S' },
      { AttributeName: ATTR.dueAt, AttributeType: 'N' },
      { AttributeName: ATTR.requesterPk, AttributeType: 'S' },
      { AttributeName: ATTR.recentPk, AttributeType: 'S' },
      { AttributeName: ATTR.createdAt, AttributeType: 'N' },
      { AttributeName: ATTR.outboxPk, AttributeType: 'S' },
      { AttributeName: ATTR.outboxAt, AttributeType: 'N' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: INDEX.due,
        KeySchema: [
          { AttributeName: ATTR.duePk, KeyType: 'HASH' },
          { AttributeName: ATTR.dueAt, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: INDEX.byRequester,
        KeySchema: [
          { AttributeName: ATTR.requesterPk, KeyType: 'HASH' },
          { AttributeName: ATTR.createdAt, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: INDEX.recent,
        KeySchema: [
          { AttributeName: ATTR.recentPk, KeyType: 'HASH' },
          { AttributeName: ATTR.createdAt, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: INDEX.outbox,
        KeySchema: [
          { AttributeName: ATTR.outboxPk, KeyType: 'HASH' },
          { AttributeName: ATTR.outboxAt, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

/**
 * Creates the table if it does not exist and waits until it is ACTIVE, then makes sure TTL is enabled on `ttl`
 * (skipped on emulators that lack the TTL API). An existing table is checked, not changed.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const existing = await describeTable(client, tableName);
  if (existing) {
    assertTableShape(existing, tableName);
  } else {
    try {
      await client.send(new CreateTableCommand(tableDefinition(tableName)));
    } catch (error) {
      // Another process created it between our describe and create: fine, wait for it below.
      if (errorName(error) !== 'ResourceInUseException') throw error;
    }
  }
  await waitUntilTableExists({ client, maxWaitTime: 300, minDelay: 1, maxDelay: 5 }, { TableName: tableName });
  await enableTimeToLive(client, tableName);
}

/** Throws a clear error when the table is missing or lacks the keys and indexes jitbot needs. */
export async function checkTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const existing = await describeTable(client, tableName);
  if (!existing) {
    throw new Error(
      `DynamoDB table "${tableName}" does not exist. Create it (see docs/store.md) or start with table creation enabled.`,
    );
  }
  assertTableShape(existing, tableName);
}

async function describeTable(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function assertTableShape(table: TableDescription, tableName: string): void {
  const wanted = tableDefinition(tableName);
  const keyText = (keys: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    (keys ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`).join(',');

  const problems: string[] = [];
  if (keyText(table.KeySchema) !== keyText(wanted.KeySchema)) {
    problems.push(`key schema is ${keyText(table.KeySchema)}, expected ${keyText(wanted.KeySchema)}`);
  }
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    const found = table.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === index.IndexName);
    if (!found) problems.push(`index "${index.IndexName}" is missing`);
    else if (keyText(found.KeySchema) !== keyText(index.KeySchema)) {
      problems.push(
        `index "${index.IndexName}" has keys ${keyText(found.KeySchema)}, expected ${keyText(index.KeySchema)}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `DynamoDB table "${tableName}" does not have jitbot's layout: ${problems.join('; ')}. See docs/store.md.`,
    );
  }
}

async function enableTimeToLive(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return;
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: ATTR.ttl, Enabled: true },
      }),
    );
  } catch (error) {
    // Some emulators have no TTL API; TTL is housekeeping only, so the table works without it.
    if (errorName(error) !== 'UnknownOperationException') throw error;
  }
}

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
