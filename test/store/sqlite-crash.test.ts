import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JitRequest } from '../../src/core/model';
import { SqliteStore } from '../../src/store/sqlite-store';

// kill -9 during saves, 30 times on one file: after every crash the reopened store must find each request with
// effects still to perform through the outbox query, each active grant through the due query (and nothing else),
// and every write the child saw acknowledged. The child (children/crash-writer.ts) writes as fast as it can.

const RUNS = 30;
const ALL = 1_000_000_000;

jest.setTimeout(120_000);

let dir: string;
let filename: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jitbot-crash-'));
  filename = join(dir, 'jitbot.db');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the writer, lets it write for 0–150 ms after its first acknowledged write, then kills it with SIGKILL. */
async function writeUntilKilled(run: number): Promise<Map<string, number>> {
  const child = spawn(
    process.execPath,
    ['test/support/run-ts.js', 'test/store/children/crash-writer.ts', filename, `r${run}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve();
    });
    void exited.then(() => reject(new Error(`the writer exited before its first write:\n${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const acked = new Map<string, number>();
  for (const line of stdout.split('\n').slice(0, -1)) {
    const [word, id, version] = line.split(' ');
    if (word === 'ack' && id && version) acked.set(id, Math.max(acked.get(id) ?? 0, Number(version)));
  }
  return acked;
}

test(`kill -9 during saves, ${RUNS} times: pending effects and active grants stay findable, acknowledged writes stay`, async () => {
  const acked = new Map<string, number>();
  for (let run = 1; run <= RUNS; run++) {
    for (const [id, version] of await writeUntilKilled(run)) acked.set(id, version);

    const raw = new Database(filename, { readonly: true });
    const integrity = raw.pragma('integrity_check', { simple: true });
    const stored = (raw.prepare('SELECT data FROM requests').all() as { data: string }[]).map(
      (row) => JSON.parse(row.data) as JitRequest,
    );
    raw.close();
    expect(integrity).toBe('ok');

    const store = new SqliteStore({ filename });
    try {
      const ids = (requests: JitRequest[]) => requests.map((request) => request.id).sort();
      const where = (keep: (request: JitRequest) => boolean) => ids(stored.filter(keep));
      expect(ids(await store.listWithPendingEffects(ALL))).toEqual(where((request) => request.outbox.length > 0));
      expect(ids(await store.listDue('active', Number.MAX_SAFE_INTEGER, ALL))).toEqual(
        where((request) => request.status === 'active'),
      );
      expect(ids(await store.listDue('pending', Number.MAX_SAFE_INTEGER, ALL))).toEqual(
        where((request) => request.status === 'pending'),
      );

      const versions = new Map(stored.map((request) => [request.id, request.version]));
      const lost = [...acked].filter(([id, version]) => (versions.get(id) ?? 0) < version);
      expect(lost).toEqual([]);
    } finally {
      await store.close();
    }
  }
  // The runs did write something worth checking: thousands of acknowledged writes across many requests.
  expect(acked.size).toBeGreaterThan(RUNS * 10);
});
