import { buildCard, statusText } from '../../src/core/card-builder';
import {
  deciders,
  IAM_SLOW_NOTICE_MS,
  markActive,
  markFailed,
  noteIamFailure,
  recordRevocation,
  type IamFailure,
} from '../../src/core/iam-outcomes';
import type { Effect, EffectBody, Grant, JitRequest, UserRef } from '../../src/core/model';
import type { TransitionContext } from '../../src/core/transitions';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const MAX = 12;
const ctx = (now: number): TransitionContext => ({ now, locale: 'en', timeZone: 'UTC' });
const cardCtx = { locale: 'en' as const, timeZone: 'UTC', dryRun: false, cardTags: [] };
const throttled: IamFailure = { problem: { code: 'throttled' } };

const alice: UserRef = { platform: 'console', userId: 'alice', displayName: 'Alice' };
const bob: UserRef = { platform: 'slack', userId: 'U0BOB', displayName: 'Bob' };
const carol: UserRef = { platform: 'console', userId: 'carol', displayName: 'Carol' };
const grant: Grant = {
  grantId: 'JIT-7K3Q2',
  startsAt: FIXTURE_NOW,
  expiresAt: FIXTURE_NOW + 2 * HOUR,
  dryRun: false,
  summary: 'granted',
};

/** Approved at two levels (Bob, then Carol; Bob's second click never counts twice), waiting for its grant. */
function approved(): JitRequest {
  return makeRequest({
    status: 'approved',
    levels: [
      { roles: ['ops'], users: [], required: 1 },
      { roles: ['security'], users: [], required: 1 },
    ],
    currentLevel: 2,
    decisions: [
      { by: bob, roles: ['ops'], level: 0, verdict: 'approve', at: FIXTURE_NOW },
      { by: carol, roles: ['security'], level: 1, verdict: 'approve', at: FIXTURE_NOW },
    ],
    version: 4,
    outbox: [{ id: '3.3', kind: 'grant' }],
  });
}

function revoking(by?: UserRef): JitRequest {
  return makeRequest({
    status: 'revoking',
    grant,
    revokeRequestedAt: FIXTURE_NOW + HOUR,
    ...(by && { endedBy: by }),
    version: 8,
    outbox: [{ id: '7.2', kind: 'revoke' }],
  });
}

const effectOf = (request: JitRequest, kind: Effect['kind']) => request.outbox.find((e) => e.kind === kind)!;
const added = (before: JitRequest, after: JitRequest) =>
  after.outbox.filter((e) => !before.outbox.some((b) => b.id === e.id));
const kinds = (effects: EffectBody[]) => effects.map((e) => e.kind);

/** Fails the effect of `kind` at each of `times` (ms after FIXTURE_NOW), folding each failure into the request. */
function failAt(
  request: JitRequest,
  kind: 'grant' | 'revoke',
  times: number[],
  failure: IamFailure = throttled,
): JitRequest {
  return times.reduce(
    (current, at) => noteIamFailure(current, effectOf(current, kind).id, failure, MAX, ctx(FIXTURE_NOW + at)),
    request,
  );
}

describe('grant', () => {
  test('markActive consumes the grant effect, clears any retry and tells the thread and the requester', () => {
    const retried = failAt(approved(), 'grant', [0]);
    const active = markActive(retried, grant, '3.3', ctx(FIXTURE_NOW + 5 * SEC));
    if (!active.ok) throw new Error('expected active');
    expect(active.request).toMatchObject({ status: 'active', grant });
    expect(active.request.iamRetry).toBeUndefined();
    expect(active.request.outbox.some((e) => e.id === '3.3')).toBe(false);
    expect(added(retried, active.request).find((e) => e.kind === 'threadReply')).toMatchObject({
      text: expect.stringContaining('aws ssm start-session --target i-0123456789abcdef0 --region cn-north-1'),
    });
  });

  test('a dry-run grant adds the would-be IAM call to the thread', () => {
    const active = markActive(
      approved(),
      { ...grant, dryRun: true, detail: 'iam:PutUserPolicy …' },
      '3.3',
      ctx(FIXTURE_NOW),
    );
    if (!active.ok) throw new Error('expected active');
    const texts = added(approved(), active.request).flatMap((e) => (e.kind === 'threadReply' ? [e.text] : []));
    expect(texts.some((text) => text.includes('iam:PutUserPolicy'))).toBe(true);
  });

  test('markFailed records the reason and tells the thread, the requester and each approver once', () => {
    const request = approved();
    request.decisions.push({
      by: { ...bob, displayName: 'Bob again' },
      roles: ['ops'],
      level: 1,
      verdict: 'approve',
      at: FIXTURE_NOW,
    });
    expect(deciders(request)).toEqual([bob, carol]);
    const failed = markFailed(request, 'policy too large', '3.3', ctx(FIXTURE_NOW));
    if (!failed.ok) throw new Error('expected failed');
    expect(failed.request).toMatchObject({ status: 'failed', failureReason: 'policy too large' });
    expect(kinds(added(request, failed.request))).toEqual([
      'updateCards',
      'threadReply',
      'notifyRequester',
      'notifyPeople',
      'audit',
    ]);
    expect(effectOf(failed.request, 'notifyPeople')).toMatchObject({
      people: [bob, carol],
      text: 'JIT-7K3Q2: access for Alice to web-1 (i-0123456789abcdef0) was approved but could not be granted: policy too large',
    });
    expect(markFailed(failed.request, 'again', '3.3', ctx(FIXTURE_NOW))).toEqual({
      ok: false,
      refusal: { code: 'not_pending', status: 'failed' },
    });
  });

  test('the first failure is shown on the card and in the thread, ahead of the waiting grant', () => {
    const before = approved();
    const after = failAt(before, 'grant', [0]);
    expect(after.status).toBe('approved');
    expect(after.iamRetry).toEqual({
      change: 'grant',
      problem: { code: 'throttled' },
      failures: 1,
      maxAttempts: MAX,
      since: FIXTURE_NOW,
      retryAt: FIXTURE_NOW + 5 * SEC,
    });
    expect(effectOf(after, 'grant')).toMatchObject({ attempts: 1, retryAt: FIXTURE_NOW + 5 * SEC });
    expect(after.outbox.map((e) => e.kind)).toEqual(['updateCards', 'threadReply', 'audit', 'grant']);
    expect(effectOf(after, 'threadReply')).toMatchObject({
      text: 'Granting access is delayed: IAM throttled. Retry 2 of 12 at 2025-01-15 09:00.',
    });
    expect(statusText(after, cardCtx)).toBe(
      '⏳ Approved — granting access: IAM throttled, retry 2 of 12 at 2025-01-15 09:00',
    );
    expect(buildCard(after, cardCtx).statusText).toBe(statusText(after, cardCtx));
  });

  test('after two minutes the requester and the approvers are told once; a retry falls exactly on the mark', () => {
    // Back-off 5, 10, 20, 40 s: failures at 0, 5, 15, 35, 75 s; the next would be 155 s, but is pulled to 120 s.
    const beforeMark = failAt(approved(), 'grant', [0, 5 * SEC, 15 * SEC, 35 * SEC, 75 * SEC]);
    expect(beforeMark.iamRetry).toMatchObject({ failures: 5, retryAt: FIXTURE_NOW + IAM_SLOW_NOTICE_MS });
    expect(beforeMark.outbox.filter((e) => e.kind === 'threadReply')).toHaveLength(1);
    expect(beforeMark.outbox.some((e) => e.kind === 'notifyRequester' || e.kind === 'notifyPeople')).toBe(false);

    const atMark = failAt(beforeMark, 'grant', [IAM_SLOW_NOTICE_MS]);
    expect(atMark.iamRetry).toMatchObject({
      failures: 6,
      slowToldAt: FIXTURE_NOW + IAM_SLOW_NOTICE_MS,
      retryAt: FIXTURE_NOW + 2 * MIN + 160 * SEC,
    });
    const told = added(beforeMark, atMark);
    const expected =
      'JIT-7K3Q2: access for Alice to web-1 (i-0123456789abcdef0) is approved, but IAM has not accepted the grant for 2m (IAM throttled). ' +
      'jitbot keeps trying: retry 7 of 12 at 2025-01-15 09:04.';
    expect(told).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'notifyRequester', text: expected }),
        expect.objectContaining({ kind: 'notifyPeople', people: [bob, carol], text: expected }),
      ]),
    );
    const later = failAt(atMark, 'grant', [5 * MIN]);
    expect(kinds(added(atMark, later))).toEqual(['updateCards']);
  });

  test('when tries run out the request fails and everyone involved is told why', () => {
    const times = [0, 5, 15, 35, 75, 120, 280, 600, 1240, 1840, 2440].map((s) => s * SEC);
    const last = failAt(approved(), 'grant', times);
    expect(last.status).toBe('approved');
    expect(last.iamRetry?.failures).toBe(11);
    const failed = failAt(last, 'grant', [3040 * SEC]);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toBe('IAM throttled (gave up after 12 tries over 50m40s)');
    expect(failed.iamRetry).toBeUndefined();
    expect(failed.outbox.some((e) => e.kind === 'grant')).toBe(false);
    const told = added(last, failed);
    expect(kinds(told)).toEqual(['updateCards', 'threadReply', 'notifyRequester', 'notifyPeople', 'audit']);
    expect(statusText(failed, cardCtx)).toBe(
      '⚠️ Approved, but access could not be granted: IAM throttled (gave up after 12 tries over 50m40s)',
    );
  });

  test('an unknown error is shown by its message', () => {
    const after = failAt(approved(), 'grant', [0], {
      problem: { code: 'error', message: 'iam:PutUserPolicy failed (Weird): boom' },
    });
    expect(statusText(after, cardCtx)).toContain(
      'granting access: iam:PutUserPolicy failed (Weird): boom, retry 2 of 12',
    );
  });
});

describe('revoke', () => {
  test('a revoke IAM has not accepted stays `revoking`, with the DateLessThan end on the card and in the thread', () => {
    const before = revoking(alice);
    const after = failAt(before, 'revoke', [HOUR]);
    expect(after.status).toBe('revoking');
    expect(after.outbox.map((e) => e.kind)).toEqual(['updateCards', 'threadReply', 'audit', 'revoke']);
    expect(effectOf(after, 'threadReply')).toMatchObject({
      text:
        'Removing access from IAM is delayed: IAM throttled. Retry 2 of 12 at 2025-01-15 10:00. ' +
        'Until then the IAM condition (DateLessThan) still ends the access at 2025-01-15 11:00.',
    });
    const card = buildCard(after, cardCtx);
    expect(card.status).toBe('revoking');
    expect(card.statusText).toBe('⏳ Revoking access (asked by Alice at 2025-01-15 10:00)…');
    expect(card.notices).toEqual([
      'IAM has not accepted the change yet: IAM throttled. Retry 2 of 12 at 2025-01-15 10:00.',
      'Until it is removed, the IAM condition (DateLessThan) still ends this access at 2025-01-15 11:00.',
    ]);
    expect(card.fields).toContainEqual({ label: 'Expires', value: '2025-01-15 11:00' });
    // The button tries again now.
    expect(card.actions.map((a) => a.id)).toEqual(['revoke']);
  });

  test('an expiry-driven revoke says the IAM condition already ended the access', () => {
    const after = failAt(revoking(), 'revoke', [2 * HOUR]);
    expect(effectOf(after, 'threadReply')).toMatchObject({
      text: expect.stringMatching(
        /^The IAM condition \(DateLessThan\) ended access at 2025-01-15 11:00; removing the statement is delayed/,
      ),
    });
    const card = buildCard(after, cardCtx);
    expect(card.statusText).toBe('⏳ Access expired at 2025-01-15 11:00; removing it from IAM…');
    expect(card.notices).toContain(
      'The IAM condition (DateLessThan) already ended this access at 2025-01-15 11:00; only the statement is left to remove.',
    );
  });

  test('after two minutes the requester and the person who revoked are told once', () => {
    const after = failAt(revoking(bob), 'revoke', [
      HOUR,
      HOUR + 5 * SEC,
      HOUR + 15 * SEC,
      HOUR + 35 * SEC,
      HOUR + 75 * SEC,
      HOUR + 2 * MIN,
    ]);
    const dms = after.outbox.filter((e) => e.kind === 'notifyRequester' || e.kind === 'notifyPeople');
    expect(dms.map((e) => e.kind)).toEqual(['notifyRequester', 'notifyPeople']);
    expect(dms[1]).toMatchObject({
      people: [bob],
      text: expect.stringContaining('is being revoked, but IAM has not accepted the removal for 2m (IAM throttled)'),
    });
    expect(dms[1]).toMatchObject({ text: expect.stringContaining('ends the access at 2025-01-15 11:00 regardless') });
  });

  test('when tries run out the admins are alerted once and the revoke keeps trying every 10 minutes', () => {
    const times = [0, 5, 15, 35, 75, 120, 280, 600, 1240, 1840, 2440, 3040].map((s) => HOUR + s * SEC);
    const stuck = failAt(revoking(alice), 'revoke', times);
    expect(stuck.status).toBe('revoking');
    expect(stuck.iamRetry).toMatchObject({
      failures: 12,
      alertedAt: FIXTURE_NOW + HOUR + 3040 * SEC,
      retryAt: FIXTURE_NOW + HOUR + 3640 * SEC,
    });
    expect(effectOf(stuck, 'revoke')).toMatchObject({ attempts: 12, retryAt: FIXTURE_NOW + HOUR + 3640 * SEC });
    const alerts = stuck.outbox.filter((e) => e.kind === 'alertAdmins');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      text:
        "🚨 JIT-7K3Q2: jitbot cannot remove Alice's access to web-1 (i-0123456789abcdef0) from IAM (IAM throttled; 12 tries since 2025-01-15 10:00). " +
        "It keeps trying every 10m; the IAM condition (DateLessThan) ends the access at 2025-01-15 11:00. Check jitbot's IAM permissions and AWS health.",
    });
    expect(buildCard(stuck, cardCtx).notices[0]).toBe(
      'IAM keeps failing the change (IAM throttled, 12 tries); admins were alerted. Next try at 2025-01-15 11:00.',
    );
    const again = failAt(stuck, 'revoke', [HOUR + 3640 * SEC]);
    expect(again.status).toBe('revoking');
    expect(again.outbox.filter((e) => e.kind === 'alertAdmins')).toHaveLength(1);
    expect(again.iamRetry?.retryAt).toBe(FIXTURE_NOW + HOUR + 4240 * SEC);
  });

  test('a refused revoke (e.g. access denied) alerts the admins at once, then retries slowly', () => {
    const refused: IamFailure = {
      problem: { code: 'error', message: 'jitbot is not allowed to call iam:PutUserPolicy' },
      permanent: true,
    };
    const after = failAt(revoking(alice), 'revoke', [HOUR], refused);
    expect(after.outbox.filter((e) => e.kind === 'alertAdmins')).toHaveLength(1);
    // One more try at the two-minute mark (people are told then), then every 10 minutes.
    expect(after.iamRetry).toMatchObject({
      retryAt: FIXTURE_NOW + HOUR + IAM_SLOW_NOTICE_MS,
      alertedAt: FIXTURE_NOW + HOUR,
    });
    const later = failAt(after, 'revoke', [HOUR + IAM_SLOW_NOTICE_MS], refused);
    expect(later.iamRetry?.retryAt).toBe(FIXTURE_NOW + HOUR + IAM_SLOW_NOTICE_MS + 10 * MIN);
    expect(later.outbox.filter((e) => e.kind === 'alertAdmins')).toHaveLength(1);
  });

  test('once IAM accepts, the request is revoked, the retry state is gone and the card shows when it ended', () => {
    const stuck = failAt(revoking(alice), 'revoke', [HOUR]);
    const revoked = recordRevocation(stuck, '7.2', 0, ctx(FIXTURE_NOW + HOUR + 5 * SEC));
    expect(revoked).toMatchObject({ status: 'revoked', endedAt: FIXTURE_NOW + HOUR + 5 * SEC });
    expect(revoked.iamRetry).toBeUndefined();
    expect(added(stuck, revoked).find((e) => e.kind === 'threadReply')).toMatchObject({
      text: 'Alice revoked access to web-1 (i-0123456789abcdef0); 0 live sessions terminated.',
    });
    const card = buildCard(revoked, cardCtx);
    expect(card.fields.map((f) => f.label)).not.toContain('Expires');
    expect(card.fields).toContainEqual({ label: 'Revoked', value: '2025-01-15 10:00' });
    expect(card.notices).toEqual([]);
    expect(card.actions).toEqual([]);
  });
});
