import type { ActionEvent } from '../../src/ports/chat';
import { commandEvent, person, startHarness, type Harness } from '../support/harness';

// An acknowledged event is never lost: it is stored before the ack, and what a crash leaves unprocessed is
// replayed at the next start, once, with its own delivery id, its answer going to the person by DM.

/** No Env tag: only the one-level "default" policy covers it. */
const ONE_LEVEL_NODE = 'i-0b0b0b0b0b0b0b0b1';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
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
