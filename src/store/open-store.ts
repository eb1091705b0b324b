import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from './dynamo-store';
import { DEFAULT_EMBEDDED_DATA_DIR, startEmbeddedDynamoDb } from './embedded-dynamodb';
import { DEFAULT_TABLE_NAME, checkTable, ensureTable } from './table';

export interface OpenStoreOptions {
  /** Setting this selects real DynamoDB. Default "jitbot". */
  tableName?: string;
  /** Setting this (or AWS_ENDPOINT_URL_DYNAMODB) selects a DynamoDB-compatible endpoint instead of the embedded one. */
  endpoint?: string;
  /** For real DynamoDB; default: the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Real DynamoDB only: create the table if it is missing (the embedded store always creates it). */
  createTable?: boolean;
  embedded?: { inMemory?: boolean; dataDir?: string };
  auditRetentionDays?: number;
}

export interface OpenedStore {
  store: DynamoStore;
  /** Where the data lives, for the startup log line. */
  describe: string;
  close(): Promise<void>;
}

/**
 * Real DynamoDB when a table name or endpoint is configured (options or AWS_ENDPOINT_URL_DYNAMODB);
 * otherwise an embedded dynalite, persisted under ./.jitbot/dynamodb unless told to stay in memory.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (endpoint || options.tableName) return openConfiguredDynamoDb(options, endpoint);
  return openEmbeddedDynamoDb(options);
}

async function openConfiguredDynamoDb(options: OpenStoreOptions, endpoint: string | undefined): Promise<OpenedStore> {
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  // The SDK reads AWS_ENDPOINT_URL_DYNAMODB itself; only an explicit option is passed on.
  const client = new DynamoDBClient({ region: options.region, endpoint: options.endpoint });
  try {
    if (options.createTable) await ensureTable(client, tableName);
    else await checkTable(client, tableName);
    const region = await client.config.region();
    const store = new DynamoStore({ client, tableName, auditRetentionDays: options.auditRetentionDays });
    return {
      store,
      describe: `DynamoDB table "${tableName}" in ${region}${endpoint ? ` at ${endpoint}` : ''}`,
      close: () => store.close(),
    };
  } catch (error) {
    client.destroy();
    throw error;
  }
}

async function openEmbeddedDynamoDb(options: OpenStoreOptions): Promise<OpenedStore> {
  const inMemory = options.embedded?.inMemory ?? false;
  const dataDir = options.embedded?.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR;
  const embedded = await startEmbeddedDynamoDb({ inMemory, dataDir });
  const client = new DynamoDBClient({
    endpoint: embedded.endpoint,
    region: 'us-east-1',
    // dynalite checks that requests are signed, not by whom.
    credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' },
  });
  try {
    await ensureTable(client, DEFAULT_TABLE_NAME);
  } catch (error) {
    client.destroy();
    await embedded.close();
    throw new Error(`could not prepare the embedded DynamoDB table`, { cause: error });
  }
  const store = new DynamoStore({ client, tableName: DEFAULT_TABLE_NAME, auditRetentionDays: options.auditRetentionDays });
  return {
    store,
    describe: inMemory ? 'embedded DynamoDB (dynalite) in memory' : `embedded DynamoDB (dynalite) at ${dataDir}`,
    close: async () => {
      await store.close();
      await embedded.close();
    },
  };
}
