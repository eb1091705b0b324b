import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Store } from '../ports/store';
import { DynamoStore } from './dynamo-store';
import { lockDataDirForServer, type ServerLock } from './server-lock';
import { SqliteStore } from './sqlite-store';
import { DEFAULT_TABLE_NAME, checkTable, ensureTable } from './table';

/** Where the embedded store lives unless `embedded.dataDir` says otherwise. */
export const DEFAULT_EMBEDDED_DATA_DIR = './.jitbot';
/** The embedded store's file inside its data directory. */
export const EMBEDDED_DB_FILE = 'jitbot.db';

export interface OpenStoreOptions {
  /** Setting this selects real DynamoDB. Default "jitbot". */
  tableName?: string;
  /** Setting this (or AWS_ENDPOINT_URL_DYNAMODB) selects a DynamoDB-compatible endpoint instead of the embedded store. */
  endpoint?: string;
  /** For real DynamoDB; default: the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Real DynamoDB only: create the table if it is missing. */
  createTable?: boolean;
  embedded?: { inMemory?: boolean; dataDir?: string; synchronous?: 'normal' | 'full' };
  auditRetentionDays?: number;
  /**
   * Set by the server (not by admin commands): on an embedded data directory it takes the server lock, so a second
   * server on the same directory is refused while admin commands keep working.
   */
  server?: boolean;
}

export interface OpenedStore {
  store: Store;
  /** Where the data lives, for the startup log line. */
  describe: string;
  /** A lease-owner id kept in the embedded data directory (stable across restarts); absent otherwise. */
  replicaId?: string;
  /** One-line notices for the startup log (e.g. data of the old embedded store that is no longer read). */
  notices: string[];
  close(): Promise<void>;
}

/**
 * Real DynamoDB when a table name or endpoint is configured (options or AWS_ENDPOINT_URL_DYNAMODB); otherwise
 * the embedded SQLite store, in `<dataDir>/jitbot.db` (default ./.jitbot/) unless told to stay in memory.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (endpoint || options.tableName) return openConfiguredDynamoDb(options, endpoint);
  return openEmbeddedSqlite(options);
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
      notices: [],
      close: () => store.close(),
    };
  } catch (error) {
    client.destroy();
    throw error;
  }
}

async function openEmbeddedSqlite(options: OpenStoreOptions): Promise<OpenedStore> {
  const { auditRetentionDays } = options;
  const synchronous = options.embedded?.synchronous;
  if (options.embedded?.inMemory) {
    const store = new SqliteStore({ filename: ':memory:', auditRetentionDays, synchronous });
    return { store, describe: 'embedded SQLite in memory', notices: [], close: () => store.close() };
  }

  const dataDir = resolve(options.embedded?.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, EMBEDDED_DB_FILE);
  const lock: ServerLock | undefined = options.server ? lockDataDirForServer(dataDir) : undefined;
  let store: SqliteStore;
  let replicaId: string;
  try {
    store = new SqliteStore({ filename: file, auditRetentionDays, synchronous });
    replicaId = store.replicaId();
  } catch (error) {
    lock?.release();
    throw new Error(
      `cannot open the embedded store ${file}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return {
    store,
    describe: `embedded SQLite at ${file}`,
    replicaId,
    notices: legacyDataNotices(dataDir, file),
    close: async () => {
      await store.close();
      lock?.release();
    },
  };
}

/** The embedded store used to be dynalite (LevelDB) in ./.jitbot/dynamodb. Its data is not migrated. */
function legacyDataNotices(dataDir: string, file: string): string[] {
  const looksLikeLevelDb = (dir: string) => existsSync(join(dir, 'CURRENT')) && existsSync(join(dir, 'LOCK'));
  const oldDir = join(dataDir, 'dynamodb');
  const found = looksLikeLevelDb(dataDir) ? dataDir : isDirectory(oldDir) ? oldDir : undefined;
  if (!found) return [];
  return [
    `${found} holds data of the old embedded DynamoDB store (dynalite); it is no longer read (the embedded store is now ${file}) and can be deleted`,
  ];
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
