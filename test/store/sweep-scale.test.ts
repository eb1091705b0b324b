import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { JitRequest } from '../../src/core/model';
import { Scheduler } from '../../src/services/scheduler';
import { HOT_SQL } from '../../src/store/sqlite-schema';
import { SqliteStore, requestRow } from '../../src/store/sqlite-store';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';
import { ManualClock } from '../support/manual-clock';

// The sweeper's cost must follow what is due, not how many grants are active. With 100,000 active grants of which
// 100 have expired, the due query is a range search on the due index (SQLite's own query plan says so, on this
// data), and one real sweep moves exactly those 100 requests to `revoking` and leaves the rest untouched.
// (DynamoDB's read counts for the same query are checked in test/store/dynamo-store.test.ts.)

const ACTIVE = 100_000;
const EXPIRED = 100;
const DAY = 86_400_000;
const NOW = FIXTURE_NOW;

jest.setTimeout(120_000);

const idOf = (i: number) => `JIT-${String(i).padStart(6, '0')}`;
/** Every 1,000th request has expired (at or before now); the others run for another month or more. */
const isExpired = (i: number) => i % (ACTIVE / EXPIRED) === 0;

function activeRequest(template: JitRequest, i: number): JitRequest {
  const expiresAt = isExpired(i) ? NOW - i : NOW + 30 * DAY + i;
  return {
    ...template,
    id: idOf(i),
    status: 'active',
    currentLevel: 1,
    grant: {
      grantId: idOf(i),
      startsAt: expiresAt - 2 * 3_600_000,
      expiresAt,
      dryRun: false,
      summary: 'PutUserPolicy',
    },
  };
}

describe(`one sweep over ${ACTIVE.toLocaleString('en')} active grants`, () => {
  let dir: string;
  let filename: string;
  let store: SqliteStore;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jitbot-sweep-'));
    filename = join(dir, 'jitbot.db');
    store = new SqliteStore({ filename });
    // Seed through a second connection in one transaction, with the rows exactly as the store writes them.
    const seeder = new Database(filename);
    const insert = seeder.prepare(HOT_SQL.createRequest);
    const template = makeRequest();
    seeder.transaction(() => {
      for (let i = 0; i < ACTIVE; i++) insert.run(requestRow(activeRequest(template, i)));
    })();
    seeder.close();
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the due entries through a range search of the due index', () => {
    const db = new Database(filename, { readonly: true });
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${HOT_SQL.listDue}`).all('active', NOW, 10 * EXPIRED) as {
        detail: string;
      }[];
      expect(plan.map((step) => step.detail)).toEqual([
        'SEARCH requests USING INDEX requests_due (due_kind=? AND due_at<?)',
      ]);
    } finally {
      db.close();
    }
  });

  it('starts ending exactly the 100 due requests and leaves the other 99,900 active', async () => {
    const committed: string[] = [];
    const scheduler = new Scheduler({
      store,
      clock: new ManualClock(NOW),
      logger: pino({ level: 'silent' }),
      locale: 'en',
      timeZone: 'UTC',
      owner: 'sweep-scale',
      onCommitted: (requestId) => committed.push(requestId),
      // Far above what is due, so only the query's key range can keep the read small.
      batchSize: 10 * EXPIRED,
    });

    expect((await store.listDue('active', NOW, 10 * EXPIRED)).map((request) => request.id)).toHaveLength(EXPIRED);
    const changed = await scheduler.sweep();

    const expiredIds = Array.from({ length: ACTIVE }, (_, i) => i)
      .filter(isExpired)
      .map(idOf);
    expect(changed).toBe(EXPIRED);
    expect([...committed].sort()).toEqual(expiredIds);
    const after = await Promise.all(expiredIds.map((id) => store.getRequest(id)));
    // Expiry hands them to the outbox's revoke: `revoking` until IAM has accepted the removal (no outbox runs here).
    expect(after.map((request) => request?.status)).toEqual(expiredIds.map(() => 'revoking'));
    expect((await store.getRequest(idOf(1)))?.status).toBe('active');
    expect(await store.listDue('active', NOW, 10 * EXPIRED)).toEqual([]);

    const db = new Database(filename, { readonly: true });
    try {
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      expect(count(`SELECT count(*) AS n FROM requests WHERE due_kind = 'active'`)).toBe(ACTIVE - EXPIRED);
      expect(count(`SELECT count(*) AS n FROM requests WHERE json_extract(data, '$.status') = 'active'`)).toBe(
        ACTIVE - EXPIRED,
      );
    } finally {
      db.close();
    }
  });
});
