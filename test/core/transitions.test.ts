import type { Person } from '../../src/core/authority';
import { markActive, recordFollowUp, recordRevocation } from '../../src/core/iam-outcomes';
import type { ApprovalLevel, EffectBody, JitRequest, UserRef } from '../../src/core/model';
import type { ManualPolicy } from '../../src/core/policy-model';
import {
  cancel,
  decide,
  expire,
  followUpSessions,
  newRequest,
  remind,
  SESSION_FOLLOW_UP_MS,
  revoke,
  timeOut,
  warnExpiry,
  type DecisionInput,
  type TransitionContext,
  type TransitionResult,
} from '../../src/core/transitions';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

const MIN = 60_000;
const HOUR = 60 * MIN;
const ctx = (now = FIXTURE_NOW + MIN): TransitionContext => ({ now, locale: 'en', timeZone: 'UTC' });

const user = (userId: string, displayName = userId): UserRef => ({ platform: 'console', userId, displayName });
const dana = user('dana', 'Dana');
const alice = user('alice-approver', 'Alice');
const bob = user('bob', 'Bob');
const erin = user('erin', 'Erin');
const carol = user('carol', 'Carol');

function requester(): JitRequest['requester'] {
  return {
    ...dana,
    groups: ['developers'],
    principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
  };
}

function pending(levels: ApprovalLevel[], overrides: Partial<JitRequest> = {}): JitRequest {
  return makeRequest({ requester: requester(), levels, ...overrides });
}

const ops = (required = 1): ApprovalLevel => ({ roles: ['ops'], users: [], required });
const sec = (required = 1): ApprovalLevel => ({ roles: ['security'], users: [], required });

/** A person with the roles they hold (and, optionally, an email or admin rights). */
function as(user: UserRef, roles: string[] = [], extra: Partial<Person> = {}): Person {
  return { ...user, roles, admin: false, ...extra };
}

/** A click by `actor` holding `roles`, in a channel that speaks for those roles unless `channelRoles` says otherwise. */
function vote(
  actor: UserRef,
  roles: string[],
  verdict: 'approve' | 'reject' = 'approve',
  extra: Partial<Omit<DecisionInput, 'actor'>> & { email?: string } = {},
): DecisionInput {
  const { email, ...rest } = extra;
  return { actor: as(actor, roles, email === undefined ? {} : { email }), channelRoles: roles, verdict, ...rest };
}

function ok(result: TransitionResult): JitRequest {
  if (!result.ok) throw new Error(`expected success, got refusal ${JSON.stringify(result.refusal)}`);
  return result.request;
}

function refusal(result: TransitionResult) {
  if (result.ok) throw new Error(`expected a refusal, got status ${result.request.status}`);
  return result.refusal;
}

const kinds = (effects: EffectBody[]) => effects.map((e) => e.kind);
const newEffects = (before: JitRequest, after: JitRequest) =>
  after.outbox.filter((e) => !before.outbox.some((b) => b.id === e.id));

const manualPolicy = (levels: ApprovalLevel[], overrides: Partial<ManualPolicy> = {}): ManualPolicy => ({
  kind: 'manual',
  name: 'production',
  targets: { tags: { Env: 'prod' } },
  minDurationMs: HOUR,
  maxDurationMs: 8 * HOUR,
  defaultDurationMs: HOUR,
  levels,
  timeoutMs: 24 * HOUR,
  reminderIntervalMs: 4 * HOUR,
  ...overrides,
});

describe('newRequest', () => {
  const base = {
    id: 'JIT-ABCDE',
    requester: requester(),
    origin: { platform: 'console' as const, channelId: 'requests' },
    target: makeRequest().target,
    reason: '修复 nginx 配置',
    durationMs: 2 * HOUR,
    warnBeforeMs: 10 * MIN,
  };

  test('manual: pending at level 1, times out per policy, reminder scheduled, card queued', () => {
    const request = newRequest(
      { ...base, decidedBy: { kind: 'manual', policy: manualPolicy([ops(), sec()]) } },
      ctx(FIXTURE_NOW),
    );
    expect(request).toMatchObject({
      status: 'pending',
      currentLevel: 0,
      version: 1,
      policy: { name: 'production', kind: 'manual' },
      timeoutAt: FIXTURE_NOW + 24 * HOUR,
      nextReminderAt: FIXTURE_NOW + 4 * HOUR,
      reason: '修复 nginx 配置',
    });
    expect(request.levels).toHaveLength(2);
    expect(kinds(request.outbox)).toEqual(['postCard', 'audit']);
  });

  test('manual without reminders has no reminder deadline', () => {
    const request = newRequest(
      { ...base, decidedBy: { kind: 'manual', policy: manualPolicy([ops()], { reminderIntervalMs: 0 }) } },
      ctx(FIXTURE_NOW),
    );
    expect(request.nextReminderAt).toBeUndefined();
  });

  test('auto: approved without people, grant queued, no card', () => {
    const request = newRequest(
      { ...base, decidedBy: { kind: 'auto', policyName: 'dev-self-service' } },
      ctx(FIXTURE_NOW),
    );
    expect(request).toMatchObject({
      status: 'approved',
      policy: { name: 'dev-self-service', kind: 'auto' },
      levels: [],
    });
    expect(kinds(request.outbox)).toEqual(['audit', 'grant']);
  });
});

describe('decide', () => {
  test('one level, one approval → approved, grant queued after card update, thread reply and audit', () => {
    const before = pending([ops()]);
    const after = ok(decide(before, vote(alice, ['ops'], 'approve', { comment: '  looks fine ' }), ctx()));
    expect(after).toMatchObject({ status: 'approved', currentLevel: 1, version: before.version + 1 });
    expect(after.decisions).toEqual([
      { by: alice, roles: ['ops'], level: 0, verdict: 'approve', comment: 'looks fine', at: FIXTURE_NOW + MIN },
    ]);
    expect(kinds(newEffects(before, after))).toEqual(['updateCards', 'threadReply', 'audit', 'grant']);
    const reply = newEffects(before, after).find((e) => e.kind === 'threadReply');
    expect(reply).toMatchObject({ text: expect.stringContaining('looks fine') });
  });

  test('a level needing two approvals stays open after one', () => {
    const first = ok(decide(pending([ops(2)]), vote(alice, ['ops']), ctx()));
    expect(first).toMatchObject({ status: 'pending', currentLevel: 0 });
    const second = ok(decide(first, vote(bob, ['ops']), ctx()));
    expect(second).toMatchObject({ status: 'approved', currentLevel: 1 });
  });

  test('level 2 opens only after level 1 has its approvals, and a new card is posted for it', () => {
    const before = pending([ops(), sec()]);
    const afterOne = ok(decide(before, vote(alice, ['ops']), ctx()));
    expect(afterOne).toMatchObject({ status: 'pending', currentLevel: 1 });
    expect(kinds(newEffects(before, afterOne))).toEqual([
      'updateCards',
      'threadReply',
      'threadReply',
      'postCard',
      'notifyRequester',
      'audit',
    ]);
    const done = ok(decide(afterOne, vote(bob, ['security']), ctx()));
    expect(done).toMatchObject({ status: 'approved', currentLevel: 2 });
  });

  test('a level-2 approver cannot decide while level 1 is open', () => {
    expect(refusal(decide(pending([ops(), sec()]), vote(bob, ['security']), ctx()))).toEqual({
      code: 'not_approver',
      level: 1,
      approvers: 'ops',
    });
  });

  test('holding the role but clicking where the channel does not speak for it is "wrong channel"', () => {
    expect(refusal(decide(pending([ops()]), vote(alice, ['ops'], 'approve', { channelRoles: [] }), ctx()))).toEqual({
      code: 'wrong_channel',
      approvers: 'ops',
    });
    expect(
      refusal(decide(pending([ops()]), vote(alice, ['security'], 'approve', { channelRoles: ['ops'] }), ctx())),
    ).toMatchObject({
      code: 'not_approver',
    });
  });

  test('five ordered levels each need their own approvers', () => {
    const roles = ['l1', 'l2', 'l3', 'l4', 'l5'];
    let request = pending(roles.map((r) => ({ roles: [r], users: [], required: 1 })));
    roles.forEach((role, index) => {
      const wrongRole = roles[(index + 1) % roles.length]!;
      expect(refusal(decide(request, vote(user(`x${index}`), [wrongRole]), ctx()))).toMatchObject({
        code: 'not_approver',
        level: index + 1,
      });
      request = ok(decide(request, vote(user(`p${index}`), [role]), ctx()));
    });
    expect(request.status).toBe('approved');
    expect(request.decisions.map((d) => d.level)).toEqual([0, 1, 2, 3, 4]);
  });

  test.each([0, 1, 2])('a rejection at level %i ends the request', (rejectAt) => {
    const roles = ['l1', 'l2', 'l3'];
    let request = pending(roles.map((r) => ({ roles: [r], users: [], required: 1 })));
    for (let level = 0; level < rejectAt; level++)
      request = ok(decide(request, vote(user(`p${level}`), [roles[level]!]), ctx()));
    const before = request;
    const rejected = ok(
      decide(request, vote(user('rejecter', 'Rita'), [roles[rejectAt]!], 'reject', { comment: 'not now' }), ctx()),
    );
    expect(rejected.status).toBe('rejected');
    expect(kinds(newEffects(before, rejected))).toEqual(['updateCards', 'threadReply', 'notifyRequester', 'audit']);
    expect(refusal(decide(rejected, vote(user('late'), [roles[rejectAt]!]), ctx()))).toMatchObject({
      code: 'already_decided',
      status: 'rejected',
      by: user('rejecter', 'Rita'),
    });
  });

  test('the requester never decides their own request, even holding the role', () => {
    expect(refusal(decide(pending([ops()]), vote(dana, ['ops']), ctx()))).toEqual({ code: 'self_approval' });
    expect(refusal(decide(pending([ops()]), vote(dana, ['ops'], 'reject'), ctx()))).toEqual({ code: 'self_approval' });
  });

  test('one decision per person per request, across levels', () => {
    const afterOne = ok(
      decide(
        pending([
          { roles: ['ops'], users: [], required: 1 },
          { roles: ['ops'], users: [], required: 1 },
        ]),
        vote(alice, ['ops']),
        ctx(),
      ),
    );
    expect(refusal(decide(afterOne, vote(alice, ['ops']), ctx()))).toEqual({ code: 'already_voted', level: 1 });
    const twoNeeded = ok(decide(pending([ops(2)]), vote(alice, ['ops']), ctx()));
    expect(refusal(decide(twoNeeded, vote(alice, ['ops']), ctx()))).toEqual({ code: 'already_voted', level: 1 });
  });

  test('named users qualify by exact platform id or by email in any case, in any channel', () => {
    const level: ApprovalLevel = { roles: [], users: ['console:erin', 'carol@example.com'], required: 1 };
    const approved = ok(decide(pending([level]), vote(erin, [], 'approve', { channelRoles: [] }), ctx()));
    expect(approved.decisions[0]).toMatchObject({ by: erin, roles: [] });
    expect(ok(decide(pending([level]), vote(carol, [], 'approve', { email: 'Carol@EXAMPLE.com' }), ctx())).status).toBe(
      'approved',
    );
    expect(refusal(decide(pending([level]), vote(user('ERIN', 'Erin'), []), ctx()))).toMatchObject({
      code: 'not_approver',
    });
    expect(refusal(decide(pending([level]), vote(bob, ['ops']), ctx()))).toMatchObject({ code: 'not_approver' });
  });

  test('a decision stores the plain chat identity, not the facts about the person', () => {
    const approved = ok(
      decide(pending([ops()]), vote(alice, ['ops'], 'approve', { email: 'alice@example.com' }), ctx()),
    );
    expect(approved.decisions[0]!.by).toEqual(alice);
  });

  test('a second click after the decision is refused with who decided and when, and changes nothing', () => {
    const approved = ok(decide(pending([ops()]), vote(alice, ['ops']), ctx(FIXTURE_NOW + 5 * MIN)));
    expect(refusal(decide(approved, vote(bob, ['ops']), ctx()))).toEqual({
      code: 'already_decided',
      status: 'approved',
      by: alice,
      at: FIXTURE_NOW + 5 * MIN,
    });
    expect(refusal(decide(approved, vote(alice, ['ops']), ctx()))).toMatchObject({
      code: 'already_decided',
      by: alice,
    });
  });

  test.each(['cancelled', 'timed_out'] as const)('a %s request cannot be decided', (status) => {
    expect(refusal(decide(pending([ops()], { status }), vote(alice, ['ops']), ctx()))).toEqual({
      code: 'not_pending',
      status,
    });
  });

  test('already decided reports the auto-approval when no person decided', () => {
    expect(refusal(decide(pending([], { status: 'active' }), vote(alice, ['ops']), ctx()))).toEqual({
      code: 'already_decided',
      status: 'active',
      by: undefined,
      at: undefined,
    });
  });

  test('comments are limited to 500 characters (counted in code points)', () => {
    expect(
      ok(decide(pending([ops()]), vote(alice, ['ops'], 'approve', { comment: '好'.repeat(500) }), ctx())).status,
    ).toBe('approved');
    expect(
      refusal(decide(pending([ops()]), vote(alice, ['ops'], 'approve', { comment: '好'.repeat(501) }), ctx())),
    ).toEqual({
      code: 'comment_too_long',
      length: 501,
      max: 500,
    });
  });
});

describe('cancel, time-out, reminders', () => {
  test('only the requester cancels (not even an admin), only while pending', () => {
    const request = pending([ops()]);
    expect(refusal(cancel(request, as(alice, ['ops'], { admin: true }), ctx()))).toEqual({
      code: 'not_requester',
      requester: 'Dana',
    });
    const cancelled = ok(cancel(request, as(dana), ctx()));
    expect(cancelled).toMatchObject({ status: 'cancelled', endedAt: FIXTURE_NOW + MIN });
    expect(refusal(cancel(cancelled, as(dana), ctx()))).toEqual({ code: 'not_cancellable', status: 'cancelled' });
    expect(refusal(cancel(pending([ops()], { status: 'approved' }), as(dana), ctx()))).toEqual({
      code: 'not_cancellable',
      status: 'approved',
    });
    expect(refusal(cancel(pending([ops()], { status: 'active' }), as(dana), ctx()))).toEqual({
      code: 'not_cancellable',
      status: 'active',
    });
  });

  test('times out only at or after the deadline', () => {
    const request = pending([ops()]);
    expect(refusal(timeOut(request, ctx(request.timeoutAt - 1)))).toEqual({ code: 'not_due' });
    const timedOut = ok(timeOut(request, ctx(request.timeoutAt)));
    expect(timedOut.status).toBe('timed_out');
    expect(kinds(timedOut.outbox)).toEqual(['updateCards', 'threadReply', 'notifyRequester', 'audit']);
    expect(refusal(timeOut(ok(decide(request, vote(alice, ['ops']), ctx())), ctx(request.timeoutAt)))).toEqual({
      code: 'not_pending',
      status: 'approved',
    });
  });

  test('reminders repeat at the interval and stop before the time-out', () => {
    const request = pending([ops()], { reminderIntervalMs: 10 * HOUR, nextReminderAt: FIXTURE_NOW + 10 * HOUR });
    expect(refusal(remind(request, ctx(FIXTURE_NOW + 10 * HOUR - 1)))).toEqual({ code: 'not_due' });
    const first = ok(remind(request, ctx(FIXTURE_NOW + 10 * HOUR)));
    expect(first.nextReminderAt).toBe(FIXTURE_NOW + 20 * HOUR);
    expect(kinds(newEffects(request, first))).toEqual(['threadReply']);
    // The next one would be at 30 h, after the 24 h time-out: none is scheduled.
    expect(ok(remind(first, ctx(FIXTURE_NOW + 20 * HOUR))).nextReminderAt).toBeUndefined();
  });

  test('a late sweep skips missed reminders instead of sending a burst', () => {
    const request = pending([ops()], { reminderIntervalMs: HOUR, nextReminderAt: FIXTURE_NOW + HOUR });
    const reminded = ok(remind(request, ctx(FIXTURE_NOW + 5 * HOUR + 1)));
    expect(reminded.nextReminderAt).toBe(FIXTURE_NOW + 6 * HOUR);
    expect(newEffects(request, reminded)).toHaveLength(1);
  });
});

describe('grant outcome, expiry and revocation', () => {
  const grant = {
    grantId: 'JIT-7K3Q2',
    startsAt: FIXTURE_NOW,
    expiresAt: FIXTURE_NOW + 2 * HOUR,
    dryRun: false,
    summary: 'granted',
  };
  const approvedWithGrantEffect = () => {
    const approved = ok(decide(pending([ops()], { warnBeforeMs: 10 * MIN }), vote(alice, ['ops']), ctx()));
    return { approved, grantEffect: approved.outbox.find((e) => e.kind === 'grant')! };
  };

  test('expiry warning once, then expiry is `revoking` until IAM accepts the removal, then `ended`', () => {
    const { approved, grantEffect } = approvedWithGrantEffect();
    const active = ok(markActive(approved, grant, grantEffect.id, ctx()));
    const warnAt = grant.expiresAt - 10 * MIN;
    expect(refusal(warnExpiry(active, ctx(warnAt - 1)))).toEqual({ code: 'not_due' });
    const warned = ok(warnExpiry(active, ctx(warnAt)));
    expect(kinds(newEffects(active, warned))).toEqual(['threadReply', 'notifyRequester']);
    expect(refusal(warnExpiry(warned, ctx(warnAt + 1)))).toEqual({ code: 'not_due' });
    expect(refusal(expire(warned, ctx(grant.expiresAt - 1)))).toEqual({ code: 'not_due' });
    const ending = ok(expire(warned, ctx(grant.expiresAt)));
    expect(ending).toMatchObject({ status: 'revoking', revokeRequestedAt: grant.expiresAt });
    expect(ending.endedBy).toBeUndefined();
    expect(ending.endedAt).toBeUndefined();
    // The card says "revoking" before the revoke is tried.
    expect(kinds(newEffects(warned, ending))).toEqual(['updateCards', 'audit', 'revoke']);
    expect(refusal(expire(ending, ctx(grant.expiresAt + 1)))).toEqual({ code: 'not_active', status: 'revoking' });
    const revokeEffect = ending.outbox.find((e) => e.kind === 'revoke')!;
    const told = recordRevocation(ending, revokeEffect.id, 1, ctx(grant.expiresAt + 5_000));
    expect(told).toMatchObject({ status: 'ended', endedAt: grant.expiresAt + 5_000 });
    expect(told.outbox.some((e) => e.id === revokeEffect.id)).toBe(false);
    expect(told.sessionsFollowUpAt).toBe(grant.expiresAt + 5_000 + SESSION_FOLLOW_UP_MS);
    expect(refusal(followUpSessions(ending, ctx(grant.expiresAt + 10 * HOUR)))).toEqual({
      code: 'not_active',
      status: 'revoking',
    });
    expect(refusal(followUpSessions(told, ctx(grant.expiresAt + 5_000 + SESSION_FOLLOW_UP_MS - 1)))).toEqual({
      code: 'not_due',
    });
    const followUp = ok(followUpSessions(told, ctx(grant.expiresAt + 5_000 + SESSION_FOLLOW_UP_MS)));
    expect(followUp.sessionsFollowUpAt).toBeUndefined();
    expect(kinds(newEffects(told, followUp))).toEqual(['terminateSessions']);
    const effectId = followUp.outbox.find((e) => e.kind === 'terminateSessions')!.id;
    expect(kinds(newEffects(followUp, recordFollowUp(followUp, effectId, 0, ctx())))).toEqual([]);
    expect(kinds(newEffects(followUp, recordFollowUp(followUp, effectId, 2, ctx())))).toEqual(['threadReply', 'audit']);
    expect(newEffects(ending, told).find((e) => e.kind === 'threadReply')).toMatchObject({
      text: 'Access to web-1 (i-0123456789abcdef0) ended; 1 live session terminated.',
    });
  });

  test('early revoke: the requester, an approver of any level or an admin; `revoking` until IAM accepts, then `revoked`', () => {
    const active = pending([ops(), sec()], { status: 'active', grant });
    expect(refusal(revoke(active, as(bob), ctx()))).toEqual({ code: 'not_allowed' });
    expect(refusal(revoke(active, as(bob, ['dba']), ctx()))).toEqual({ code: 'not_allowed' });
    for (const who of [as(dana), as(bob, ['security']), as(bob, [], { admin: true })])
      expect(ok(revoke(active, who, ctx())).status).toBe('revoking');
    const revoking = ok(revoke(active, as(bob, [], { admin: true, email: 'bob@example.com' }), ctx()));
    expect(revoking).toMatchObject({ status: 'revoking', endedBy: bob, revokeRequestedAt: FIXTURE_NOW + MIN });
    expect(revoking.endedAt).toBeUndefined();
    expect(kinds(newEffects(active, revoking))).toEqual(['updateCards', 'audit', 'revoke']);
    // While the first removal is under way, asking again changes nothing.
    expect(refusal(revoke(revoking, as(dana), ctx()))).toEqual({ code: 'already_revoking' });
    const revoked = recordRevocation(
      revoking,
      revoking.outbox.find((e) => e.kind === 'revoke')!.id,
      2,
      ctx(FIXTURE_NOW + 2 * MIN),
    );
    expect(revoked).toMatchObject({ status: 'revoked', endedAt: FIXTURE_NOW + 2 * MIN, endedBy: bob });
    expect(newEffects(revoking, revoked).find((e) => e.kind === 'threadReply')).toMatchObject({
      text: 'Bob revoked access to web-1 (i-0123456789abcdef0); 2 live sessions terminated.',
    });
    expect(refusal(revoke(revoked, as(bob, [], { admin: true }), ctx()))).toEqual({
      code: 'not_active',
      status: 'revoked',
    });
  });

  test('a named approver with a mixed-case platform id may revoke', () => {
    const named: ApprovalLevel = { roles: [], users: ['slack:U02ABCDEF'], required: 1 };
    const active = pending([named], { status: 'active', grant });
    const approver = as({ platform: 'slack', userId: 'U02ABCDEF', displayName: 'Kim' });
    expect(ok(revoke(active, approver, ctx())).status).toBe('revoking');
    expect(refusal(revoke(active, as({ platform: 'slack', userId: 'u02abcdef', displayName: 'Kim?' }), ctx()))).toEqual(
      { code: 'not_allowed' },
    );
  });
});
