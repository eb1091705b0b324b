import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/ports/store';
import { openStore } from '../../src/store/open-store';
import { blockActionsBody, postSigned, slashCommandBody } from '../adapters/slack/slack-requests';
import type { FakeMessage, FakeSlack } from '../support/fake-slack';
import { CRASH_SLACK, ONE_LEVEL_NODE, startCrashSlack } from './crash-config';
import { kill9, startJitbotProcess, stopGracefully, type JitbotProcess } from './jitbot-process';

// After kill -9 and a restart on the same data directory, due work does not wait for the dead process's leases
// (sweeper, outbox, principal) to run out: the restarted server has the same owner id and takes them back at once.
// A grant left pending lands, and an expired grant is revoked, within the sweep interval (1 s here) + 5 s of the
// restart being ready.

const SWEEP_INTERVAL_MS = 1_000;
const BOUND_MS = SWEEP_INTERVAL_MS + 5_000;
const HOUR = 3_600_000;

jest.setTimeout(120_000);

let fake: FakeSlack;
let dataDir: string;
let alive: JitbotProcess | undefined;
let reader: { store: Store; close(): Promise<void> } | undefined;

beforeAll(async () => {
  fake = await startCrashSlack();
  dataDir = mkdtempSync(join(tmpdir(), 'jitbot-due-crash-'));
});

afterAll(async () => {
  if (alive) await kill9(alive).catch(() => undefined);
  await reader?.close();
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const textOf = (message: FakeMessage): string => message.blocks?.[0]?.text?.text ?? message.text ?? '';

/** Polls the store (read next to the running server, as the CLI does) until the request is in `status`. */
async function statusReached(requestId: string, status: string, since: number, what: string): Promise<number> {
  reader ??= await openStore({ embedded: { dataDir } });
  for (;;) {
    const request = await reader.store.getRequest(requestId);
    if (request?.status === status) return Date.now() - since;
    if (Date.now() - since > 30_000) throw new Error(`${what}: still ${request?.status} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a grant left pending by kill -9 lands, and an expired grant is revoked, within the sweep interval + 5 s of the restart', async () => {
  alive = await startJitbotProcess(dataDir, fake.apiUrl);
  const submittedId = randomUUID();
  await postSigned(
    alive.url,
    slashCommandBody({
      text: `${ONE_LEVEL_NODE} leases for 1h`,
      userId: CRASH_SLACK.requester,
      channelId: CRASH_SLACK.requests,
      responseUrl: fake.responseUrl(submittedId),
    }),
  );
  const submitted = await fake.waitFor(() => fake.responsesTo(submittedId)[0], 'the submitted answer', 10_000);
  const requestId = /JIT-[0-9A-Z]{5}/.exec(String(submitted.body.text))![0];
  const card = await fake.waitFor(
    () => fake.channelMessages(CRASH_SLACK.approvals).find((m) => textOf(m).startsWith(requestId)),
    'the card',
    10_000,
  );

  // The approval is acked; the process dies at once, with the grant still to do.
  const click = blockActionsBody({
    userId: CRASH_SLACK.approver,
    channelId: card.channel,
    messageTs: card.ts,
    action: 'approve',
    requestId,
    responseUrl: fake.responseUrl(randomUUID()),
  });
  expect((await postSigned(alive.url, click)).status).toBe(200);
  await kill9(alive);

  alive = await startJitbotProcess(dataDir, fake.apiUrl);
  const granted = await statusReached(requestId, 'active', Date.now(), 'the pending grant');
  expect(granted).toBeLessThanOrEqual(BOUND_MS);

  // Two hours later (the clock moves on for the restarted process): the grant is due. A process that starts
  // ending it dies mid-way, holding the sweeper's and the outbox's leases.
  await kill9(alive);
  alive = await startJitbotProcess(dataDir, fake.apiUrl, 2 * HOUR);
  await new Promise((resolve) => setTimeout(resolve, Math.random() * SWEEP_INTERVAL_MS));
  await kill9(alive);

  alive = await startJitbotProcess(dataDir, fake.apiUrl, 2 * HOUR);
  const revoked = await statusReached(requestId, 'ended', Date.now(), 'the due revoke');
  expect(revoked).toBeLessThanOrEqual(BOUND_MS);
  await stopGracefully(alive);
  alive = undefined;

  const events = (await reader!.store.listAudit()).filter((e) => e.requestId === requestId).map((e) => e.action);
  expect(events.filter((a) => a === 'grant.created')).toHaveLength(1);
  expect(events.filter((a) => a === 'grant.expired')).toHaveLength(1);
});
