import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../src/store/dynamo-store';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/store/embedded-dynamodb';
import { ensureTable } from '../../src/store/table';
import { describeStoreSuite } from './store-suite';

let dynalite: EmbeddedDynamoDb;
let tables = 0;

beforeAll(async () => {
  dynalite = await startEmbeddedDynamoDb({ inMemory: true });
});
afterAll(async () => {
  await dynalite.close();
});

describeStoreSuite('dynalite (in process)', async () => {
  const client = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const tableName = `jitbot-test-${++tables}`;
  await ensureTable(client, tableName);
  const store = new DynamoStore({ client, tableName });
  return {
    store,
    client,
    tableName,
    dispose: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      await store.close();
    },
  };
});
