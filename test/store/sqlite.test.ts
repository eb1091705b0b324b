import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DueKind } from '../../src/ports/store';
import { HOT_SQL, SCHEMA } from '../../src/store/sqlite-schema';
import { SqliteStore } from '../../src/store/sqlite-store';
import { describeStoreSuite } from './store-suite';

// The store suite on the embedded SQLite store, each test on its own file (so a second store instance, like the
// CLI next to the server, can open it too). The backdoor is a plain second connection to the same file.

describeStoreSuite('SQLite (file, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jitbot-sqlite-'));
  const filename = join(dir, 'jitbot.db');
  const store = new SqliteStore({ filename });
  const others: SqliteStore[] = [];
  const raw = new Database(filename);
  const ids = (rows: unknown[]) => (rows as { id: string }[]).map((row) => row.id);
  return {
    store,
    openAnother: async () => {
      const another = new SqliteStore({ filename });
      others.push(another);
      return another;
    },
    backdoor: {
      dueIndex: async (kind: DueKind) =>
        ids(raw.prepare('SELECT id FROM requests INDEXED BY requests_due WHERE due_kind = ? ORDER BY id').all(kind)),
      outboxIndex: async () =>
        ids(
          raw
            .prepare('SELECT id FROM requests INDEXED BY requests_outbox WHERE outbox_at IS NOT NULL ORDER BY id')
            .all(),
        ),
      writeAuditEvent: async (seq, event) => {
        raw.prepare('UPDATE audit SET data = ?, at = ? WHERE seq = ?').run(JSON.stringify(event), event.at, seq);
      },
      deleteAuditEvent: async (seq) => {
        raw.prepare('DELETE FROM audit WHERE seq = ?').run(seq);
      },
    },
    dispose: async () => {
      raw.close();
      await Promise.all([store, ...others].map((opened) => opened.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite query plans', () => {
  it('every hot-path statement searches an index, or walks one in order under its LIMIT; none scans a table or sorts', () => {
    const db = new Database(':memory:');
    db.exec(SCHEMA);
    const problems: string[] = [];
    for (const [name, sql] of Object.entries(HOT_SQL)) {
      const statement = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
      const named = Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((match) => [match[1]!, 1]));
      const positional = (sql.match(/\?/g) ?? []).map(() => 1);
      const plan = (Object.keys(named).length > 0 ? statement.all(named) : statement.all(...positional)) as {
        detail: string;
      }[];
      for (const { detail } of plan) {
        const searches = /^SEARCH \w+ USING (?:COVERING )?(?:INDEX \w+|PRIMARY KEY|INTEGER PRIMARY KEY) \(/.test(
          detail,
        );
        const walksUnderLimit = /^SCAN \w+ USING (?:COVERING )?INDEX \w+$/.test(detail) && /\bLIMIT \?$/.test(sql);
        if (!searches && !walksUnderLimit) problems.push(`${name}: ${detail}`);
      }
    }
    db.close();
    expect(problems).toEqual([]);
  });
});
