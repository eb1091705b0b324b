import { writeSync } from 'node:fs';
import type { JitRequest } from '../../../src/core/model';
import { SqliteStore } from '../../../src/store/sqlite-store';
import { FIXTURE_NOW, makeRequest } from '../../support/fixtures';

// Child of sqlite-crash.test.ts: saves requests as fast as it can, through the states that put them in and out of
// the outbox and due indexes, until it is killed. After each write the store acknowledged it prints
// "ack <id> <version>" (synchronously, so a line printed is a write committed).
//   node test/support/run-ts.js test/store/children/crash-writer.ts <db file> <run>

const [filename, run] = process.argv.slice(2);
if (!filename || !run) throw new Error('usage: crash-writer.ts <db file> <run>');

const HOUR = 3_600_000;
const store = new SqliteStore({ filename });

const ack = (request: JitRequest) => writeSync(1, `ack ${request.id} ${request.version}\n`);

async function save(request: JitRequest, changes: Partial<JitRequest>): Promise<JitRequest> {
  const next: JitRequest = { ...request, ...changes, version: request.version + 1, updatedAt: request.updatedAt + 1 };
  if (!(await store.saveRequest(next, request.version))) throw new Error(`lost a write on ${request.id}`);
  ack(next);
  return next;
}

async function main(): Promise<void> {
  for (let i = 0; ; i++) {
    const at = FIXTURE_NOW + i;
    // Created: pending (due: time-out) with its card still to post (outbox).
    let request = makeRequest({
      id: `JIT-${run}-${i}`,
      createdAt: at,
      updatedAt: at,
      timeoutAt: at + 24 * HOUR,
      outbox: [{ id: 'e1', kind: 'postCard' }],
    });
    if (!(await store.createRequest(request))) throw new Error(`id taken: ${request.id}`);
    ack(request);
    // Card posted: out of the outbox, still pending.
    request = await save(request, { outbox: [] });
    // Approved: the grant waits in the outbox, not yet due as active.
    request = await save(request, { status: 'approved', currentLevel: 1, outbox: [{ id: 'e2', kind: 'grant' }] });
    // Granted: active (due: expiry) with a notification still to send.
    request = await save(request, {
      status: 'active',
      grant: { grantId: request.id, startsAt: at, expiresAt: at + 2 * HOUR, dryRun: true, summary: 'dry run' },
      outbox: [{ id: 'e3', kind: 'notifyRequester', text: 'granted ✅' }],
    });
    // Every third request stays active with an empty outbox; the others end.
    request = await save(request, { outbox: [] });
    if (i % 3 !== 0)
      await save(request, { status: 'ended', endedAt: at + HOUR, outbox: [{ id: 'e4', kind: 'updateCards' }] });
  }
}

void main().catch((error: unknown) => {
  writeSync(2, `${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
