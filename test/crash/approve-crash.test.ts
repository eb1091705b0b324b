import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditChain } from '../../src/core/audit-chain';
import { openStore } from '../../src/store/open-store';
import { blockActionsBody, postSigned, slashCommandBody } from '../adapters/slack/slack-requests';
import type { FakeMessage, FakeSlack } from '../support/fake-slack';
import { CRASH_SLACK, ONE_LEVEL_NODE, startCrashSlack } from './crash-config';
import { kill9, startJitbotProcess, stopGracefully, type JitbotProcess } from './jitbot-process';

// kill -9 of a real jitbot process (embedded SQLite store, Slack adapter against the fake Slack) at a random point
// 0–1000 ms after Slack got the ack of the final Approve, then a restart on the same data directory. Whatever the
// moment, the grant is written exactly once and the approver and the requester are told once, within 15 s of the
// restart. Leases held by the dead process belong to the same stable owner, so nothing waits for them to expire.

const RUNS = Number(process.env.CRASH_RUNS ?? 8);
const TOLD_WITHIN_MS = 15_000;
/** After both were told, how long to keep watching for a second message. */
const QUIET_MS = 1_500;

jest.setTimeout(RUNS * 40_000);

let fake: FakeSlack;
let dirs: string[] = [];
let alive: JitbotProcess | undefined;

beforeAll(async () => {
  fake = await startCrashSlack();
});

afterAll(async () => {
  if (alive) await kill9(alive).catch(() => undefined);
  await fake.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

const textOf = (message: FakeMessage): string => message.blocks?.[0]?.text?.text ?? message.text ?? '';

/** Everything the approver was told about their click: the ephemeral answer, or the DM after a replay. */
function approverTold(requestId: string, responseId: string): string[] {
  const answered = fake.responsesTo(responseId).map((r) => String(r.body.text ?? ''));
  const byDm = fake.channelMessages(`D_${CRASH_SLACK.approver}`).map(textOf);
  return [...answered, ...byDm].filter((text) => text.includes(`Recorded your approval of ${requestId}`));
}

/** The requester's DMs about the grant of this request. */
function requesterTold(requestId: string): string[] {
  return fake.channelMessages(`D_${CRASH_SLACK.requester}`).map(textOf).filter((text) => text.includes(requestId));
}

/**
 * When to kill, after the ack: odd runs anywhere in the second, even runs in its first 100 ms, where the click is
 * still being processed and its effects performed. CRASH_KILL_MS pins it (to try one moment by hand).
 */
function killPoint(run: number): number {
  if (process.env.CRASH_KILL_MS !== undefined) return Number(process.env.CRASH_KILL_MS);
  return Math.floor(Math.random() * (run % 2 === 1 ? 1_000 : 100));
}

async function waitUntil(done: () => boolean, deadline: number, what: () => string): Promise<void> {
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test(`kill -9 0–1000 ms after acking the final Approve, ${RUNS} times: one grant, each person told once, within 15 s of the restart`, async () => {
  for (let run = 1; run <= RUNS; run++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'jitbot-approve-crash-'));
    dirs.push(dataDir);
    alive = await startJitbotProcess(dataDir, fake.apiUrl);

    // Dana asks; the card appears in the approvers' channel.
    const submittedId = randomUUID();
    const command = slashCommandBody({
      text: `${ONE_LEVEL_NODE} crash run ${run}`,
      userId: CRASH_SLACK.requester,
      channelId: CRASH_SLACK.requests,
      responseUrl: fake.responseUrl(submittedId),
    });
    expect((await postSigned(alive.url, command)).status).toBe(200);
    const submitted = await fake.waitFor(() => fake.responsesTo(submittedId)[0], 'the submitted answer', 10_000);
    const requestId = /JIT-[0-9A-Z]{5}/.exec(String(submitted.body.text))![0];
    const card = await fake.waitFor(
      () => fake.channelMessages(CRASH_SLACK.approvals).find((m) => textOf(m).startsWith(requestId)),
      'the card',
      10_000,
    );

    // Alice approves; Slack gets its ack; the process dies somewhere in the next second.
    const clickId = randomUUID();
    const click = blockActionsBody({
      userId: CRASH_SLACK.approver,
      channelId: card.channel,
      messageTs: card.ts,
      action: 'approve',
      requestId,
      responseUrl: fake.responseUrl(clickId),
    });
    expect((await postSigned(alive.url, click)).status).toBe(200);
    const killAfterMs = killPoint(run);
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    await kill9(alive);

    alive = await startJitbotProcess(dataDir, fake.apiUrl);
    const deadline = alive.spawnedAt + TOLD_WITHIN_MS;
    const context = `run ${run}, killed ${killAfterMs} ms after the ack`;
    await waitUntil(
      () => approverTold(requestId, clickId).length > 0 && requesterTold(requestId).length > 0,
      deadline,
      () => `both were told (${context}; approver ${approverTold(requestId, clickId).length}, requester ${requesterTold(requestId).length})`,
    );
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect({ context, approver: approverTold(requestId, clickId).length, requester: requesterTold(requestId).length }).toEqual({
      context,
      approver: 1,
      requester: 1,
    });
    const restarted = alive;
    await stopGracefully(alive);
    alive = undefined;
    if (process.env.JITBOT_CRASH_LOG) process.stderr.write(`${context}:\n${restarted.stderr()}\n`);

    const opened = await openStore({ embedded: { dataDir } });
    try {
      const request = (await opened.store.getRequest(requestId))!;
      expect({ context, status: request.status, decisions: request.decisions.length, grant: request.grant?.dryRun }).toEqual({
        context,
        status: 'active',
        decisions: 1,
        grant: true,
      });
      const anchors = await opened.store.getAuditAnchors();
      const events = await opened.store.listAudit();
      const actions = events.filter((e) => e.requestId === requestId).map((e) => e.action);
      expect({ context, approved: actions.filter((a) => a === 'request.approved').length, granted: actions.filter((a) => a === 'grant.created').length }).toEqual({
        context,
        approved: 1,
        granted: 1,
      });
      expect(verifyAuditChain(events, anchors)).toMatchObject({ ok: true });
      expect(await opened.store.listUnprocessedInboundEvents(10)).toEqual([]);
    } finally {
      await opened.close();
    }
  }
});
