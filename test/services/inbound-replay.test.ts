import pino from 'pino';
import type { ActionEvent, CommandEvent } from '../../src/ports/chat';
import { REPLAY_ATTEMPTS_NAMESPACE } from '../../src/services/inbound-replay';
import { commandEvent, person, startHarness, type Harness } from '../support/harness';

// An acknowledged event is never lost: it is stored before the ack, and what a crash leaves unprocessed is
// replayed at the next start, once, with its own delivery id, its answer going to the person by DM.

/** No Env tag: only the one-level "default" policy covers it. */
const ONE_LEVEL_NODE = 'i-0b0b0b0b0b0b0b0b1';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let h: Harness;
let logLines: { level: number; msg: string; [key: string]: unknown }[];
const logger = () => pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });

beforeEach(async () => {
  logLines = [];
  h = await startHarness({ logger: logger() });
});

afterEach(async () => {
  await h.close();
});

function approveEvent(requestId: string, deliveryId: string): ActionEvent {
  return {
    kind: 'action',
    platform: 'console',
    deliveryId,
    actor: person('alice'),
    channel: { platform: 'console', channelId: 'ops-approvals' },
    action: 'approve',
    requestId,
  };
}

async function submitted(): Promise<string> {
  const reply = await h.command('dana', `/jit ${ONE_LEVEL_NODE} replay me`);
  await h.settle();
  return h.idIn(reply);
}

/** A crash after the change was saved but before the event was marked processed. */
function crashBeforeMarking(): () => void {
  const mark = h.store.markInboundEventProcessed.bind(h.store);
  h.store.markInboundEventProcessed = async () => false;
  return () => {
    h.store.markInboundEventProcessed = mark;
  };
}

test('a click stored and acknowledged but never processed is replayed once; the answer goes by DM', async () => {
  const id = await submitted();
  const click = approveEvent(id, 'slack-style-delivery-1');
  // Stored before the ack, then the process died.
  expect(await h.service.intake.receive(click)).toBe(true);
  expect(await h.store.listUnprocessedInboundEvents(10)).toHaveLength(1);

  expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() + 1 })).toBe(1);
  await h.settle();
  const request = (await h.store.getRequest(id))!;
  expect(request.decisions.map((d) => d.by.userId)).toEqual(['alice']);
  expect(request.status).toBe('active');
  const toAlice = h.chat.dms.filter((dm) => dm.user.userId === 'alice');
  expect(toAlice).toHaveLength(1);
  expect(toAlice[0]!.text).toMatch(
    /^jitbot restarted before it could answer what you sent at .*\. The answer:\nRecorded your approval of JIT-/,
  );
  expect(toAlice[0]!.lastSeenIn).toEqual({ platform: 'console', channelId: 'ops-approvals' });

  // Processed now: not replayed again, and the platform's redelivery of it is a duplicate.
  expect(await h.store.listUnprocessedInboundEvents(10)).toEqual([]);
  expect(await h.store.getRecord(REPLAY_ATTEMPTS_NAMESPACE, `console#${click.deliveryId}`)).toBeUndefined();
  expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() + 1 })).toBe(0);
  expect(await h.chat.send(click)).toEqual({ kind: 'none' });
  const audit = (await h.store.listAudit()).filter((e) => e.deliveryId === click.deliveryId);
  expect(audit.map((e) => e.action)).toEqual(['request.approved']);
});

test('a click whose change was saved before the crash is answered as done, not refused, and changes nothing', async () => {
  const id = await submitted();
  const restore = crashBeforeMarking();
  const click = approveEvent(id, 'saved-not-marked');
  expect((await h.chat.send(click)).kind).toBe('info');
  restore();
  await h.settle();
  const before = (await h.store.getRequest(id))!;

  expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() + 1 })).toBe(1);
  await h.settle();
  const after = (await h.store.getRequest(id))!;
  expect(after.decisions).toEqual(before.decisions);
  expect(after.version).toBe(before.version);
  const toAlice = h.chat.dms.filter((dm) => dm.user.userId === 'alice').map((dm) => dm.text);
  expect(toAlice).toEqual([expect.stringContaining(`Recorded your approval of ${id}`)]);
  expect((await h.store.listAudit()).filter((e) => e.action === 'decision.refused')).toEqual([]);
});

test('a request command whose request was saved before the crash does not make a second request', async () => {
  const restore = crashBeforeMarking();
  const command = commandEvent('dana', `${ONE_LEVEL_NODE} only once`, { deliveryId: 'cmd-saved-not-marked' });
  const first = await h.chat.send(command);
  restore();
  const id = h.idIn(first);

  expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() + 1 })).toBe(1);
  await h.settle();
  expect((await h.store.listRecentRequests(10)).map((r) => r.id)).toEqual([id]);
  const toDana = h.chat.dms.filter((dm) => dm.user.userId === 'dana' && dm.text.startsWith('jitbot restarted'));
  expect(toDana.map((dm) => dm.text)).toEqual([expect.stringContaining(`Submitted ${id}`)]);
});

test('events received after the cut-off (possibly still in flight elsewhere) are left alone', async () => {
  const id = await submitted();
  await h.service.intake.receive(approveEvent(id, 'young'));
  expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() })).toBe(0);
  expect((await h.store.getRequest(id))!.decisions).toEqual([]);
  expect(await h.store.listUnprocessedInboundEvents(10)).toHaveLength(1);
});

test("an event that fails is forgotten, so the person's retry is processed", async () => {
  const resolve = h.inventory.resolve.bind(h.inventory);
  h.inventory.resolve = async () => {
    throw new Error('EC2 unavailable');
  };
  const command = commandEvent('dana', `${ONE_LEVEL_NODE} flaky`, { deliveryId: 'fails-once' });
  expect((await h.chat.send(command)).kind).toBe('error');
  expect(await h.store.listUnprocessedInboundEvents(10)).toEqual([]);
  h.inventory.resolve = resolve;
  expect((await h.chat.send(command)).kind).toBe('info');
});

describe('a replay comes too late', () => {
  test('a click older than timeouts.replayMaxAge is not applied; it is marked processed, audited, logged and the person told', async () => {
    expect(h.config.timeouts.replayMaxAgeMs).toBe(15 * MINUTE);
    const id = await submitted();
    const click = approveEvent(id, 'stale-click');
    const receivedAt = h.clock.now();
    expect(await h.service.intake.receive(click)).toBe(true);
    // jitbot was down for two hours.
    h.clock.advance(2 * HOUR);

    expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() })).toBe(0);
    await h.settle();
    const request = (await h.store.getRequest(id))!;
    expect(request.status).toBe('pending');
    expect(request.decisions).toEqual([]);
    expect(await h.store.listUnprocessedInboundEvents(10)).toEqual([]);
    // Still a duplicate for the platform's redelivery.
    expect(await h.chat.send(click)).toEqual({ kind: 'none' });

    const audit = (await h.store.listAudit()).filter((e) => e.deliveryId === click.deliveryId);
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'inbound.expired',
        actor: 'console:alice',
        requestId: id,
        detail: expect.objectContaining({
          platform: 'console',
          kind: 'action',
          action: 'approve',
          receivedAt,
          ageMs: 2 * HOUR,
          maxAgeMs: 15 * MINUTE,
        }),
      }),
    ]);
    expect(logLines).toContainEqual(
      expect.objectContaining({
        level: 40,
        platform: 'console',
        kind: 'action',
        deliveryId: 'stale-click',
        receivedAt,
      }),
    );
    const toAlice = h.chat.dms.filter((dm) => dm.user.userId === 'alice').map((dm) => dm.text);
    expect(toAlice).toEqual([
      `jitbot was unavailable when you sent Approve on ${id} at 2025-01-15 09:00, and an action not processed within 15m is dropped rather than applied late: nothing was changed. If you still mean it, click it again.`,
    ]);

    // Another pass (or replica) finds nothing left to do and tells nobody twice.
    expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() })).toBe(0);
    expect(h.chat.dms.filter((dm) => dm.user.userId === 'alice')).toHaveLength(1);
  });

  test('an event just inside the maximum age is still replayed', async () => {
    const id = await submitted();
    await h.service.intake.receive(approveEvent(id, 'nearly-stale'));
    h.clock.advance(15 * MINUTE);
    expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() })).toBe(1);
    expect((await h.store.getRequest(id))!.decisions.map((d) => d.by.userId)).toEqual(['alice']);
  });

  test('a stale click on a request that has since timed out says so, as a fresh click would', async () => {
    const id = await submitted();
    await h.service.intake.receive(approveEvent(id, 'after-timeout'));
    h.clock.advance(25 * HOUR);
    await h.scheduler.sweep();
    expect((await h.store.getRequest(id))!.status).toBe('timed_out');

    await h.service.replayUnprocessed({ receivedBefore: h.clock.now() });
    const toAlice = h.chat.dms.filter((dm) => dm.user.userId === 'alice').map((dm) => dm.text);
    expect(toAlice).toEqual([
      expect.stringMatching(new RegExp(`nothing was changed\\. ${id} is timed out; it can no longer be decided\\.$`)),
    ]);
    expect((await h.store.listAudit()).map((e) => e.action)).toContain('inbound.expired');
  });

  test("a stale command is dropped in the person's language; the audit and the log never hold what was typed", async () => {
    const command: CommandEvent = {
      ...commandEvent('dana', `${ONE_LEVEL_NODE} secret-ticket-4711`, { deliveryId: 'stale-command' }),
      locale: 'ja-JP',
    };
    await h.service.intake.receive(command);
    h.clock.advance(3 * 24 * HOUR);

    expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() })).toBe(0);
    expect(await h.store.listRecentRequests(10)).toEqual([]);
    const toDana = h.chat.dms.filter((dm) => dm.user.userId === 'dana').map((dm) => dm.text);
    expect(toDana).toEqual([
      `2025-01-15 09:00 に「${ONE_LEVEL_NODE} secret-ticket-4711」が送信されたとき jitbot は利用できませんでした。15m 以内に処理されなかった操作は遅れて適用せずに破棄するため、何も変更されていません。 必要であれば、もう一度送信してください。`,
    ]);
    const audit = await h.store.listAudit();
    expect(audit.map((e) => e.action)).toEqual(['inbound.expired']);
    expect(audit[0]!.detail).toMatchObject({ platform: 'console', kind: 'command' });
    expect(JSON.stringify(audit)).not.toContain('secret-ticket');
    expect(logLines.some((line) => line.msg.includes('too old'))).toBe(true);
    expect(JSON.stringify(logLines)).not.toContain('secret-ticket');
  });
});

describe('an event whose replay crashes jitbot', () => {
  /** A service whose processing of the poison node never returns: the process "died" there. */
  async function crashingReplay(): Promise<void> {
    const run = await startHarness({ store: h.store, clock: h.clock, logger: logger() });
    let reached!: () => void;
    const crashed = new Promise<void>((resolve) => (reached = resolve));
    run.inventory.resolve = () => {
      reached();
      return new Promise(() => undefined);
    };
    void run.service.replayUnprocessed({ receivedBefore: h.clock.now() });
    await crashed;
  }

  const poison = () => commandEvent('dana', `${ONE_LEVEL_NODE} poison`, { deliveryId: 'crashes-1' });
  const attempts = async () =>
    (await h.store.getRecord(REPLAY_ATTEMPTS_NAMESPACE, 'console#crashes-1'))?.value as
      | { attempts: number }
      | undefined;

  test('each replay is counted before it runs; after 3 it is given up, audited, logged and the person told', async () => {
    await h.service.intake.receive(poison());
    for (const attempt of [1, 2, 3]) {
      h.clock.advance(MINUTE);
      await crashingReplay();
      expect((await attempts())?.attempts).toBe(attempt);
    }

    h.clock.advance(MINUTE);
    expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() })).toBe(0);
    expect(await h.store.listUnprocessedInboundEvents(10)).toEqual([]);
    expect(await attempts()).toBeUndefined();
    expect(await h.store.listRecentRequests(10)).toEqual([]);
    const audit = await h.store.listAudit();
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'inbound.abandoned',
        actor: 'console:dana',
        deliveryId: 'crashes-1',
        detail: expect.objectContaining({ platform: 'console', kind: 'command', attempts: 3 }),
      }),
    ]);
    expect(JSON.stringify(audit)).not.toContain('poison');
    const errors = logLines.filter((line) => line.level === 50);
    expect(errors).toEqual([expect.objectContaining({ deliveryId: 'crashes-1', attempts: 3 })]);
    expect(JSON.stringify(errors)).not.toContain(' poison');
    const toDana = h.chat.dms.filter((dm) => dm.user.userId === 'dana').map((dm) => dm.text);
    expect(toDana).toEqual([
      `jitbot could not process “${ONE_LEVEL_NODE} poison” that you sent at 2025-01-15 09:00: it failed 3 times, so it was set aside and may not have taken effect. Please try again; if it fails again, contact an admin (console:carol) and quote rashes-1.`,
    ]);

    // Sent again, it is a new delivery and runs as usual.
    expect((await h.command('dana', `/jit ${ONE_LEVEL_NODE} poison`)).kind).toBe('info');
  });

  test('a replay that succeeds after a crash is answered and its count removed', async () => {
    await h.service.intake.receive(poison());
    h.clock.advance(MINUTE);
    await crashingReplay();
    expect((await attempts())?.attempts).toBe(1);

    expect(await h.service.replayUnprocessed({ receivedBefore: h.clock.now() })).toBe(1);
    expect(await attempts()).toBeUndefined();
    expect(await h.store.listRecentRequests(10)).toHaveLength(1);
    expect(h.chat.dms.filter((dm) => dm.user.userId === 'dana').map((dm) => dm.text)).toEqual([
      expect.stringContaining('jitbot restarted before it could answer'),
    ]);
  });

  test('the live path reads and writes no replay counts', async () => {
    const id = await submitted();
    const touched: string[] = [];
    for (const method of ['getRecord', 'putRecord', 'deleteRecord'] as const) {
      const original = h.store[method].bind(h.store) as (...args: unknown[]) => Promise<unknown>;
      (h.store as unknown as Record<string, unknown>)[method] = (namespace: string, ...rest: unknown[]) => {
        touched.push(`${method} ${namespace}`);
        return original(namespace, ...rest);
      };
    }
    expect((await h.chat.send(approveEvent(id, 'live-click'))).kind).toBe('info');
    expect((await h.command('dana', `/jit ${ONE_LEVEL_NODE} live`)).kind).toBe('info');
    expect(touched.filter((call) => call.includes(REPLAY_ATTEMPTS_NAMESPACE))).toEqual([]);
  });
});
