import Database from 'better-sqlite3';
import { join } from 'node:path';

// One server per embedded data directory. The store file itself stays open to other processes (the admin CLI
// reads and writes it while the server runs); this separate lock file is what a second server cannot take.
// It is an OS file lock held by an open SQLite connection, so the kernel drops it when the process dies, even
// on kill -9: a restart never waits for a stale lock.

export const SERVER_LOCK_FILE = 'server.lock';

/** A second server on one embedded data directory: an operator error with a one-line explanation, not a crash. */
export class StoreInUseError extends Error {
  override readonly name = 'StoreInUseError';
}

export interface ServerLock {
  release(): void;
}

/**
 * The open lock connections. better-sqlite3 closes a connection nobody references when it is garbage collected,
 * which would drop the lock while the server still runs; holding them here ties the lock to `release` alone.
 */
const held = new Set<Database.Database>();

export function lockDataDirForServer(dataDir: string): ServerLock {
  const path = join(dataDir, SERVER_LOCK_FILE);
  const db = new Database(path, { timeout: 0 });
  try {
    // In exclusive locking mode SQLite keeps the lock of its first write until the connection closes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS server_lock (held INTEGER); COMMIT;');
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
      throw new StoreInUseError(
        `another jitbot server is already running on ${dataDir}: the embedded store serves one server ` +
          '(admin commands such as `jitbot audit verify` can still use it; for several replicas use DynamoDB)',
      );
    }
    throw error;
  }
  held.add(db);
  return {
    release: () => {
      held.delete(db);
      if (db.open) db.close();
    },
  };
}
