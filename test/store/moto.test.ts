import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../src/store/dynamo-store';
import { ensureTable } from '../../src/store/table';
import { describeStoreSuite } from './store-suite';

// moto_server is started for the whole run by test/support/global-setup.js.
const endpoint = process.env.MOTO_ENDPOINT;
if (!endpoint) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');

const runId = `${process.pid}-${Date.now().toString(36)}`;
let tables = 0;

describeStoreSuite('moto_server', async () => {
  const client = new DynamoDBClient({
    endpoint,
    region: 'cn-north-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const tableName = `jitbot-test-${runId}-${++tables}`;
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
