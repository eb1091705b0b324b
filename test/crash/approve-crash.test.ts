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
// moment, the grant is written exactly once and the approver and the requester are told, within 15 s of the
// restart. They are told once, with one exception no chat platform lets a process avoid: a kill in the few
// milliseconds between a message reaching Slack and jitbot recording that it was sent repeats that message once
// after the restart. A repeat is therefore accepted only when the first message arrived less than REPEAT_WINDOW_MS
// before the kill; a repeat of anything told earlier than that would mean the record was never written.
// Leases held by the dead process belong to the same stable owner, so nothing waits for them to expire.

const RUNS = Number(process.env.CRASH_RUNS ?? 8);
const TOLD_WITHIN_MS = 15_000;
/** After both were told, how long to keep watching for a second message. */
const QUIET_MS = 1_500;
/** A message that reached Slack this shortly before the kill may be sent once more after the restart. */
const REPEAT_WINDOW_MS = 250;
/** After the kill, how long to let the fake read what the dead process had already sent. */
const IN_FLIGHT_MS = 200;

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
  return fake
    .channelMessages(`D_${CRASH_SLACK.requester}`)
    .map(textOf)
    .filter((text) => text.includes(requestId));
}

/**
 * When to kill, after the ack: odd runs anywhere in the second, even runs in its first 100 ms, where the click is
 * still being processed and its effects performed. CRASH_KILL_MS pins it (to try one moment by hand).
 */
function killPoint(run: number): number {
  if (process.env.CRASH_KILL_MS !== undefined) return Number(process.env.CRASH_KILL_MS);
  return Math.floor(Math.random() * (run % 2 === 1 ? 1_000 : 100));
}

/**
 * Waits until `until`, noting when each condition first held (polled every 5 ms), so the test knows whether a
 * message reached Slack just before the kill.
 */
async function watchUntil<K extends string>(
  until: number,
  seen: Record<K, () => boolean>,
): Promise<Partial<Record<K, number>>> {
  const firstAt: Partial<Record<K, number>> = {};
  for (;;) {
    const now = Date.now();
    for (const key of Object.keys(seen) as K[]) if (firstAt[key] === undefined && seen[key]()) firstAt[key] = now;
    if (now >= until) return firstAt;
    await new Promise((resolve) => setTimeout(resolve, Math.min(5, until - now)));
  }
}

async function waitUntil(done: () => boolean, deadline: number, what: () => string): Promise<void> {
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test(`kill -9 0–1000 ms after acking the final Approve, ${RUNS} times: one grant, each person told (a repeat only when killed just after telling), within 15 s of the restart`, async () => {
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
    const firstToldAt = await watchUntil(Date.now() + killAfterMs, {
      approver: () => approverTold(requestId, clickId).length > 0,
      requester: () => requesterTold(requestId).length > 0,
    });
    const killedAt = Date.now();
    await kill9(alive);
    await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
    const toldBefore = {
      approver: approverTold(requestId, clickId).length,
      requester: requesterTold(requestId).length,
    };

    alive = await startJitbotProcess(dataDir, fake.apiUrl);
    const deadline = alive.spawnedAt + TOLD_WITHIN_MS;
    const context = `run ${run}, killed ${killAfterMs} ms after the ack`;
    await waitUntil(
      () => approverTold(requestId, clickId).length > 0 && requesterTold(requestId).length > 0,
      deadline,
      () =>
        `both were told (${context}; approver ${approverTold(requestId, clickId).length}, requester ${requesterTold(requestId).length})`,
    );
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const told = { approver: approverTold(requestId, clickId).length, requester: requesterTold(requestId).length };
    for (const person of ['approver', 'requester'] as const) {
      const repeated = toldBefore[person] === 1 && told[person] === 2;
      const firstAt = firstToldAt[person];
      const sinceFirstMs = firstAt === undefined ? undefined : killedAt - firstAt;
      const repeatExplained = repeated && (sinceFirstMs === undefined || sinceFirstMs < REPEAT_WINDOW_MS);
      expect({ context, person, told: told[person], toldBefore: toldBefore[person], sinceFirstMs }).toEqual({
        context,
        person,
        told: repeatExplained ? 2 : 1,
        toldBefore: toldBefore[person],
        sinceFirstMs,
      });
      if (repeated)
        process.stderr.write(
          `${context}: the ${person} was told again after the restart (first told ${sinceFirstMs ?? '<5'} ms before the kill)\n`,
        );
    }
    const restarted = alive;
    await stopGracefully(alive);
    alive = undefined;
    if (process.env.JITBOT_CRASH_LOG) process.stderr.write(`${context}:\n${restarted.stderr()}\n`);

    const opened = await openStore({ embedded: { dataDir } });
    try {
      const request = (await opened.store.getRequest(requestId))!;
      expect({
        context,
        status: request.status,
        decisions: request.decisions.length,
        grant: request.grant?.dryRun,
      }).toEqual({
        context,
        status: 'active',
        decisions: 1,
        grant: true,
      });
      const anchors = await opened.store.getAuditAnchors();
      const events = await opened.store.listAudit();
      const actions = events.filter((e) => e.requestId === requestId).map((e) => e.action);
      expect({
        context,
        approved: actions.filter((a) => a === 'request.approved').length,
        granted: actions.filter((a) => a === 'grant.created').length,
      }).toEqual({
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
