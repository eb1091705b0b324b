import {
  DeleteItemCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DueKind, Store } from '../../src/ports/store';
import { DynamoStore } from '../../src/store/dynamo-store';
import { OUTBOX_PARTITION, auditKey, duePartition } from '../../src/store/keys';
import { ATTR, INDEX, ensureTable } from '../../src/store/table';
import { describeStoreSuite } from './store-suite';

// The store suite on DynamoDB (moto_server). DynamoDB-only behaviour (lagging index entries, read counts) is in
// test/store/dynamo-indexes.test.ts.

// moto_server is started for the whole run by test/support/global-setup.js.
const endpoint = process.env.MOTO_ENDPOINT;
if (!endpoint) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');

const runId = `${process.pid}-${Date.now().toString(36)}`;
let tables = 0;

const newClient = () =>
  new DynamoDBClient({ endpoint, region: 'cn-north-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

describeStoreSuite('DynamoDB (moto_server)', async () => {
  const client = newClient();
  const tableName = `jitbot-test-${runId}-${++tables}`;
  await ensureTable(client, tableName);
  const store = new DynamoStore({ client, tableName });
  const others: Store[] = [];

  const indexIds = async (indexName: string, partitionAttribute: string, partition: string) => {
    const output = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: indexName,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': partitionAttribute },
        ExpressionAttributeValues: { ':p': { S: partition } },
      }),
    );
    return (output.Items ?? []).map((item) => String(unmarshall(item).pk).replace(/^REQ#/, '')).sort();
  };

  return {
    store,
    openAnother: async () => {
      const another = new DynamoStore({ client: newClient(), tableName });
      others.push(another);
      return another;
    },
    backdoor: {
      dueIndex: (kind: DueKind) => indexIds(INDEX.due, ATTR.duePk, duePartition(kind)),
      outboxIndex: () => indexIds(INDEX.outbox, ATTR.outboxPk, OUTBOX_PARTITION),
      writeAuditEvent: async (seq, event) => {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall({ ...auditKey(seq), type: 'audit', data: event }, { removeUndefinedValues: true }),
          }),
        );
      },
      deleteAuditEvent: async (seq) => {
        await client.send(new DeleteItemCommand({ TableName: tableName, Key: marshall(auditKey(seq)) }));
      },
    },
    dispose: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      await Promise.all([store, ...others].map((opened) => opened.close()));
    },
  };
});
