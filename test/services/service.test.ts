import { DryRunGranter } from '../../src/aws/dry-run-granter';
import type { Grant, JitRequest } from '../../src/core/model';
import { ManualClock } from '../support/manual-clock';
import { commandEvent, startHarness, testConfig, type Harness } from '../support/harness';

// The service, outbox and scheduler over a real store (in-memory SQLite) and a recording chat adapter.

const MIN = 60_000;
const HOUR = 60 * MIN;
/** No Env tag: only the one-level "default" policy covers it. */
const ONE_LEVEL_NODE = 'i-0b0b0b0b0b0b0b0b1';

class CountingGranter extends DryRunGranter {
  granted: string[] = [];
  revokes: string[] = [];
  failGrants = 0;
  override async grant(request: JitRequest, startsAt: number, expiresAt: number): Promise<Grant> {
    if (this.failGrants > 0) {
      this.failGrants--;
      throw new Error('Throttling: rate exceeded');
    }
    this.granted.push(request.id);
    return super.grant(request, startsAt, expiresAt);
  }
  followUps: string[] = [];
  lateSessions = 0;
  override async terminateSessions(request: JitRequest) {
    this.followUps.push(request.id);
    return this.lateSessions;
  }
  override async revoke(request: JitRequest) {
    this.revokes.push(request.id);
    await super.revoke(request);
    return { sessionsTerminated: 1, summary: 'revoked' };
  }
}

let h: Harness;
let granter: CountingGranter;

beforeEach(async () => {
  granter = new CountingGranter();
  h = await startHarness({ granter });
});

afterEach(async () => {
  await h.close();
});

async function submit(text: string, user = 'dana'): Promise<string> {
  const reply = await h.command(user, text);
  expect(reply.kind).toBe('info');
  await h.settle();
  return h.idIn(reply);
}

describe('concurrency and idempotency', () => {
  test('twenty simultaneous approvals: one transition, nineteen "already approved", one grant', async () => {
    const id = await submit(`/jit ${ONE_LEVEL_NODE} rerun the nightly batch`);
    const approvers = Array.from({ length: 20 }, (_, i) => `a${i + 1}`);
    const replies = await Promise.all(approvers.map((user) => h.click(user, id, 'approve')));
    await h.settle();

    const wins = replies.filter((r) => r.kind === 'info');
    const losses = replies.filter((r) => r.kind === 'error');
    expect(wins).toHaveLength(1);
    expect(wins[0]!.text).toBe(`Recorded your approval of ${id}. ✅ Approved — granting access…`);
    expect(losses).toHaveLength(19);
    const stored = (await h.store.getRequest(id))!;
    const winner = stored.decisions[0]!.by.displayName;
    for (const loss of losses)
      expect(loss.text).toMatch(
        new RegExp(`^${id} was already approved by ${winner} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d`),
      );
    expect(stored.decisions).toHaveLength(1);
    expect(stored.status).toBe('active');
    expect(granter.granted).toEqual([id]);
  });

  test('a redelivered click or command changes nothing', async () => {
    const first = await h.command('dana', `/jit ${ONE_LEVEL_NODE} check disk`);
    const before = await h.store.listRecentRequests(10);
    const delivery = commandEvent('dana', `${ONE_LEVEL_NODE} check disk`, { deliveryId: 'same-delivery' });
    const again = await h.chat.send(delivery);
    const redelivered = await h.chat.send({ ...delivery });
    expect(again.kind).toBe('info');
    expect(redelivered).toEqual({ kind: 'none' });
    expect(await h.store.listRecentRequests(10)).toHaveLength(before.length + 1);

    const id = h.idIn(first);
    await h.settle();
    const click = await h.click('alice', id, 'approve', { deliveryId: 'click-1' });
    const retry = await h.click('alice', id, 'approve', { deliveryId: 'click-1' });
    expect(click.kind).toBe('info');
    expect(retry).toEqual({ kind: 'none' });
    expect((await h.store.getRequest(id))!.decisions).toHaveLength(1);
  });

  test('a crash between the commit and its effects is completed after restart', async () => {
    // The process "dies" right after the write: no effect runs.
    h.outbox.kick = () => undefined;
    const reply = await h.command('dana', `/jit ${ONE_LEVEL_NODE} crash test`);
    const id = h.idIn(reply);
    expect(h.chat.posted).toHaveLength(0);
    expect((await h.store.getRequest(id))!.outbox.map((e) => e.kind)).toEqual(['postCard', 'audit']);

    // A new replica on the same table recovers the outbox on start.
    const restarted = await startHarness({ store: h.store, granter, owner: 'replica-2' });
    try {
      await restarted.outbox.recover();
      await restarted.outbox.idle();
      expect(restarted.chat.posted.map((p) => p.card.requestId)).toEqual([id]);
      const stored = (await h.store.getRequest(id))!;
      expect(stored.outbox).toEqual([]);
      expect(stored.cards).toHaveLength(1);
      expect((await h.store.listAudit()).filter((e) => e.requestId === id).map((e) => e.action)).toEqual([
        'request.created',
      ]);
    } finally {
      await restarted.outbox.idle();
    }
  });

  test('an audit effect appended just before a crash is not appended again by the next run', async () => {
    h.outbox.kick = () => undefined;
    const id = h.idIn(await h.command('dana', `/jit ${ONE_LEVEL_NODE} audit once`));
    const queued = (await h.store.getRequest(id))!.outbox.find((e) => e.kind === 'audit')!;
    // The dying run appended it, then died before removing it from the outbox.
    if (queued.kind !== 'audit') throw new Error('expected an audit effect');
    await h.store.appendAudit({ ...queued.event, at: h.clock.now(), requestId: id });

    const restarted = await startHarness({
      store: h.store,
      granter,
      owner: 'replica-2',
      clock: new ManualClock(h.clock.now() + 1_000),
    });
    try {
      await restarted.settle();
      expect((await h.store.getRequest(id))!.outbox).toEqual([]);
      expect((await h.store.listAudit()).filter((e) => e.requestId === id).map((e) => e.action)).toEqual([
        'request.created',
      ]);
    } finally {
      await restarted.outbox.idle();
    }
  });

  test('a failing chat call is retried on the next recovery pass, then the card appears once', async () => {
    h.chat.failNext.postCard = 2;
    const id = h.idIn(await h.command('dana', `/jit ${ONE_LEVEL_NODE} flaky chat`));
    await h.outbox.idle();
    expect(h.chat.posted).toHaveLength(0);
    expect((await h.store.getRequest(id))!.outbox.find((e) => e.kind === 'postCard')).toMatchObject({
      attempts: 1,
      retryAt: h.clock.now() + 5_000,
    });
    // Not before its retry time, then with back-off: 5 s, then 10 s.
    await h.settle();
    expect(h.chat.posted).toHaveLength(0);
    h.clock.advance(5_000);
    await h.settle();
    expect((await h.store.getRequest(id))!.outbox.find((e) => e.kind === 'postCard')).toMatchObject({ attempts: 2 });
    h.clock.advance(10_000);
    await h.settle();
    expect(h.chat.posted.map((p) => p.card.requestId)).toEqual([id]);
    expect((await h.store.getRequest(id))!.outbox).toEqual([]);
  });

  test('a throttled grant is retried; access goes live once', async () => {
    granter.failGrants = 1;
    const id = await submit(`/jit ${ONE_LEVEL_NODE} throttled`);
    await h.click('alice', id, 'approve');
    await h.outbox.idle();
    const waiting = (await h.store.getRequest(id))!;
    expect(waiting.status).toBe('approved');
    expect(waiting.outbox.find((e) => e.kind === 'grant')?.attempts).toBe(1);
    h.clock.advance(5_000);
    await h.settle();
    expect((await h.store.getRequest(id))!.status).toBe('active');
    expect(granter.granted).toEqual([id]);
  });
});

describe('who may decide', () => {
  test('the requester cannot approve their own request', async () => {
    await h.close();
    const config = testConfig((c) => {
      c.identities.push({
        match: { platform: 'console', userId: 'carol' },
        principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/carol' },
        groups: [],
      });
    });
    h = await startHarness({ config, granter });
    const id = await submit(`/jit ${ONE_LEVEL_NODE} self test`, 'carol');
    const reply = await h.click('carol', id, 'approve');
    expect(reply).toEqual({ kind: 'error', text: `You requested ${id}; someone else must decide it.` });
    expect((await h.store.getRequest(id))!.decisions).toEqual([]);
    expect((await h.store.listAudit()).some((e) => e.action === 'decision.refused' && e.requestId === id)).toBe(true);
  });

  test('non-approvers and clicks from a channel that does not speak for the role are refused and audited', async () => {
    const id = await submit(`/jit ${ONE_LEVEL_NODE} channel test`);
    const outsider = await h.click('dana2', id, 'approve');
    expect(outsider.kind).toBe('error');
    expect(outsider.text).toContain('not an approver');
    const wrongChannel = await h.click('alice', id, 'approve', { channel: 'security-approvals' });
    expect(wrongChannel.kind).toBe('error');
    expect(wrongChannel.text).toContain('This channel does not speak for ops-approvers');
    expect((await h.store.getRequest(id))!.decisions).toEqual([]);
    const refusals = (await h.store.listAudit()).filter((e) => e.action === 'decision.refused' && e.requestId === id);
    expect(refusals.map((e) => e.detail?.code)).toEqual(['not_approver', 'wrong_channel']);
  });

  test('an unmapped requester is told whom to ask', async () => {
    const reply = await h.command('alice', `/jit ${ONE_LEVEL_NODE} please`);
    expect(reply).toEqual({ kind: 'error', text: expect.stringContaining('console:carol') });
    expect(reply.text).toContain('console:alice');
  });

  test('rejection with a comment reaches the thread and the requester', async () => {
    const id = await submit(`/jit ${ONE_LEVEL_NODE} risky`);
    await h.click('alice', id, 'reject', { comment: '请先提交变更单' });
    await h.settle();
    expect((await h.store.getRequest(id))!.status).toBe('rejected');
    expect(h.chat.threads.map((t) => t.text).join('\n')).toContain('请先提交变更单');
    expect(h.chat.dms.map((d) => d.text).join('\n')).toContain('rejected by Alice');
    expect(h.chat.latestCard(id)!.actions).toEqual([]);
    expect(granter.granted).toEqual([]);
  });
});

describe('every refusal is audited', () => {
  test('unmapped requester, unknown or ambiguous node, deny policy, bad duration, bad input, unknown request, non-admin', async () => {
    const secretReason = 'password hunter2 in the reason';
    const cases: [string, string, string][] = [
      ['alice', `/jit web-1 ${secretReason}`, 'unmapped'],
      ['dana', `/jit no-such-host ${secretReason}`, 'node_not_found'],
      ['dana', `/jit batch ${secretReason}`, 'node_ambiguous'],
      ['dana', `/jit db-1 ${secretReason}`, 'denied'],
      ['dana', `/jit web-1 ${secretReason} for 20m`, 'duration_bounds'],
      ['dana', '/jit web-1 reason for 2x', 'bad_input'],
      ['dana', '/jit cancel JIT-ZZZZZ', 'request_not_found'],
    ];
    for (const [user, text, code] of cases) {
      const reply = await h.command(user, text);
      expect({ code, kind: reply.kind }).toEqual({ code, kind: 'error' });
    }
    expect((await h.command('dana', '/jit admin channels')).kind).toBe('error');
    expect((await h.click('alice', 'JIT-ZZZZZ', 'approve')).kind).toBe('error');

    const audit = await h.store.listAudit();
    const refused = audit.filter((e) => e.action.endsWith('.refused'));
    expect(refused.map((e) => [e.action, e.detail?.code])).toEqual([
      ...cases.map(([, , code]) => ['command.refused', code]),
      ['admin.refused', 'not_admin'],
      ['decision.refused', 'request_not_found'],
    ]);
    expect(refused[0]).toMatchObject({ actor: 'console:alice', detail: { node: 'web-1' } });
    expect(refused[3]).toMatchObject({ detail: { policy: 'no-database-shell', nodeId: 'i-0aaaabbbbccccdddd' } });
    expect(refused[8]).toMatchObject({ requestId: 'JIT-ZZZZZ' });
    for (const event of refused) expect(event.deliveryId).toEqual(expect.any(String));
    // What a person typed as free text stays out of the audit log.
    expect(JSON.stringify(audit)).not.toContain('hunter2');
    expect(await h.store.listRecentRequests(10)).toEqual([]);
  });
});

describe('requester commands', () => {
  test('cancel, list and status', async () => {
    const id = await submit(`/jit ${ONE_LEVEL_NODE} cancel me`);
    expect((await h.command('alice', `/jit cancel ${id}`)).text).toContain('Only Dana can cancel');
    expect(await h.command('dana', `/jit cancel ${id.toLowerCase()}`)).toEqual({
      kind: 'info',
      text: `Cancelled ${id}.`,
    });
    await h.settle();
    expect(h.chat.latestCard(id)!.status).toBe('cancelled');
    const list = await h.command('dana', '/jit list');
    expect(list.text).toContain(id);
    expect(list.text).toContain('cancelled');
    const status = await h.command('dana', `/jit status ${id}`);
    expect(status.text).toContain('cancel me');
    expect((await h.command('dana', '/jit status JIT-ZZZZZ')).text).toBe('There is no request JIT-ZZZZZ.');
  });

  test('early revoke by the requester ends access and live sessions', async () => {
    const id = await submit(`/jit ${ONE_LEVEL_NODE} revoke me`);
    await h.click('alice', id, 'approve');
    await h.settle();
    expect((await h.command('bob', `/jit revoke ${id}`)).text).toContain('Only the requester');
    const reply = await h.command('dana', `/jit revoke ${id}`);
    expect(reply.kind).toBe('info');
    await h.settle();
    expect((await h.store.getRequest(id))!.status).toBe('revoked');
    expect(granter.revokes).toEqual([id]);
    expect(h.chat.threads.map((t) => t.text).join('\n')).toContain('1 live session terminated.');
  });
});

describe('deadlines', () => {
  test('reminders, then a time-out with the requester told', async () => {
    const id = await submit(`/jit ${ONE_LEVEL_NODE} waiting`);
    h.clock.advance(4 * HOUR);
    expect(await h.scheduler.sweep()).toBe(1);
    await h.settle();
    expect(h.chat.threads.map((t) => t.text).join('\n')).toContain(`Reminder: ${id}`);
    h.clock.advance(20 * HOUR);
    await h.scheduler.sweep();
    await h.settle();
    expect((await h.store.getRequest(id))!.status).toBe('timed_out');
    expect(h.chat.dms.map((d) => d.text).join('\n')).toContain('timed out');
    expect(await h.scheduler.sweep()).toBe(0);
  });

  test('expiry warning, then expiry revokes and ends the request', async () => {
    const id = await submit(`/jit ${ONE_LEVEL_NODE} short job for 2h`);
    await h.click('alice', id, 'approve');
    await h.settle();
    const grant = (await h.store.getRequest(id))!.grant!;
    h.clock.set(grant.expiresAt - 10 * MIN);
    await h.scheduler.sweep();
    await h.settle();
    expect(h.chat.dms.map((d) => d.text).join('\n')).toContain('ends in 10m');
    h.clock.set(grant.expiresAt);
    await h.scheduler.sweep();
    await h.settle();
    const ended = (await h.store.getRequest(id))!;
    expect(ended.status).toBe('ended');
    expect(granter.revokes).toEqual([id]);
    expect(h.chat.latestCard(id)!.status).toBe('ended');

    // About two minutes later, one more pass ends sessions opened while the IAM change propagated.
    granter.lateSessions = 1;
    h.clock.advance(2 * MIN - 1);
    expect(await h.scheduler.sweep()).toBe(0);
    h.clock.advance(1);
    expect(await h.scheduler.sweep()).toBe(1);
    await h.settle();
    expect(granter.followUps).toEqual([id]);
    expect(h.chat.threads.map((t) => t.text).join('\n')).toContain(
      '1 more session that opened while access was being removed was terminated.',
    );
    expect((await h.store.getRequest(id))!.sessionsFollowUpAt).toBeUndefined();
    h.clock.advance(HOUR);
    expect(await h.scheduler.sweep()).toBe(0);
  });

  test('only one replica sweeps at a time', async () => {
    await submit(`/jit ${ONE_LEVEL_NODE} lease`);
    h.clock.advance(25 * HOUR);
    expect(await h.store.acquireLease('sweeper', 'other-replica', h.clock.now(), 60_000)).toBe(true);
    expect(await h.scheduler.sweep()).toBe(0);
    await h.store.releaseLease('sweeper', 'other-replica');
    expect(await h.scheduler.sweep()).toBe(1);
  });
});

describe('admin channel mapping', () => {
  test('only admins map channels; runtime mappings win and are audited', async () => {
    expect((await h.command('alice', '/jit admin map-channel ops-approvers', 'oncall')).text).toContain('Only admins');
    expect((await h.command('carol', '/jit admin map-channel nobody', 'oncall')).text).toContain(
      'There is no approver role "nobody"',
    );
    expect(await h.command('carol', '/jit admin map-channel ops-approvers', 'oncall')).toEqual({
      kind: 'info',
      text: 'This channel now speaks for ops-approvers.',
    });
    expect(await h.command('carol', '/jit admin unmap-channel', 'ops-approvals')).toEqual({
      kind: 'info',
      text: 'This channel no longer speaks for ops-approvers.',
    });
    const channels = (await h.command('carol', '/jit admin channels')).text!;
    expect(channels).toContain('oncall → ops-approvers (runtime)');
    expect(channels).not.toContain('ops-approvals');

    const id = await submit(`/jit ${ONE_LEVEL_NODE} routed`);
    expect(h.chat.posted.filter((p) => p.card.requestId === id).map((p) => p.channel.channelId)).toEqual(['oncall']);
    expect((await h.click('alice', id, 'approve', { channel: 'ops-approvals' })).text).toContain(
      'This channel does not speak',
    );
    expect((await h.click('alice', id, 'approve', { channel: 'oncall' })).kind).toBe('info');
    const actions = (await h.store.listAudit()).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['admin.refused', 'channel.mapped', 'channel.unmapped']));
  });
});

describe('node checks', () => {
  test('a terminated node is refused before anyone is asked', async () => {
    await h.close();
    const config = testConfig((c) => {
      c.inventory.nodes.push({
        id: 'i-0dead0dead0dead0d',
        name: 'old-web',
        account: '111122223333',
        region: 'cn-north-1',
        tags: {},
        state: 'terminated',
      });
    });
    h = await startHarness({ config, granter });
    expect(await h.command('dana', '/jit old-web look at logs')).toEqual({
      kind: 'error',
      text: 'old-web (i-0dead0dead0dead0d) is terminated; there is nothing to connect to.',
    });
    expect(await h.store.listRecentRequests(10)).toEqual([]);
  });

  test('a node whose SSM agent is offline is flagged to the requester and on the card', async () => {
    const reply = await h.command('dana', '/jit legacy-1 check agent');
    expect(reply.text).toContain('not registered with Systems Manager (ping: ConnectionLost)');
    await h.settle();
    expect(h.chat.latestCard(h.idIn(reply))!.notices.join(' ')).toContain('ConnectionLost');
  });
});

test('unmapping a runtime override of a file mapping leaves the channel unmapped', async () => {
  expect((await h.command('carol', '/jit admin map-channel security-leads', 'ops-approvals')).kind).toBe('info');
  expect(await h.channelRoles.rolesOf({ platform: 'console', channelId: 'ops-approvals' })).toEqual(['security-leads']);
  expect(await h.command('carol', '/jit admin unmap-channel', 'ops-approvals')).toEqual({
    kind: 'info',
    text: 'This channel no longer speaks for security-leads.',
  });
  expect(await h.channelRoles.rolesOf({ platform: 'console', channelId: 'ops-approvals' })).toEqual([]);
  expect((await h.command('carol', '/jit admin unmap-channel', 'ops-approvals')).text).toBe(
    'This channel is not mapped to any role.',
  );
});

test('an event that fails is not swallowed as a duplicate when it is retried', async () => {
  const resolve = h.inventory.resolve.bind(h.inventory);
  let failures = 1;
  h.inventory.resolve = async (query) => {
    if (failures-- > 0) throw new Error('EC2 unavailable');
    return resolve(query);
  };
  const event = commandEvent('dana', `${ONE_LEVEL_NODE} retry me`, { deliveryId: 'retried-delivery' });
  const first = await h.chat.send(event);
  expect(first).toMatchObject({ kind: 'error', text: expect.stringContaining('nothing was changed') });
  expect(first.text).not.toContain('EC2 unavailable');
  const retry = await h.chat.send(event);
  expect(retry.kind).toBe('info');
  expect(await h.chat.send(event)).toEqual({ kind: 'none' });
  expect(await h.store.listRecentRequests(10)).toHaveLength(1);
});
