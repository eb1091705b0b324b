import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import dynalite from 'dynalite';

// An in-process DynamoDB (dynalite) on a loopback port, so jitbot runs with no AWS account and no setup.

export const DEFAULT_EMBEDDED_DATA_DIR = './.jitbot/dynamodb';

export interface EmbeddedDynamoDbOptions {
  /** Keep everything in memory (lost on close). */
  inMemory?: boolean;
  /** LevelDB directory for persisted data (default ./.jitbot/dynamodb), created if missing. */
  dataDir?: string;
}

export interface EmbeddedDynamoDb {
  /** e.g. http://127.0.0.1:53124 */
  endpoint: string;
  /** Absolute data directory, or undefined in memory. */
  dataDir: string | undefined;
  close(): Promise<void>;
}

export async function startEmbeddedDynamoDb(options: EmbeddedDynamoDbOptions = {}): Promise<EmbeddedDynamoDb> {
  const dataDir = options.inMemory ? undefined : resolve(options.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR);
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    await assertDataDirAvailable(dataDir);
  }

  const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    dataDir,
    close: () => {
      closing ??= new Promise<void>((resolveClose, rejectClose) => {
        // Idle keep-alive sockets from SDK clients would otherwise hold the server (and the LevelDB lock) open.
        server.close((error) => (error ? rejectClose(error) : resolveClose()));
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

interface LevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * dynalite opens its LevelDB lazily and, when the directory is locked by another process, throws from inside
 * its request handler and takes the whole process down. Opening it once ourselves first turns that into an error.
 */
async function assertDataDirAvailable(dataDir: string): Promise<void> {
  // `level` is dynalite's own dependency: load the copy dynalite uses.
  const { Level } = createRequire(require.resolve('dynalite'))('level') as { Level: new (path: string) => LevelDb };
  const db = new Level(dataDir);
  try {
    await db.open();
  } catch (error) {
    throw new Error(`cannot open the embedded DynamoDB data in ${dataDir} (is another jitbot using it?)`, {
      cause: error,
    });
  }
  await db.close();
}
