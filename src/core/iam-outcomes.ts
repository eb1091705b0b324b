import { formatDuration } from './duration';
import { t, tPlural, formatTime, type MessageKey } from './i18n/catalog';
import { describeIamProblem, nodeLabel, personKey, samePerson, startSessionCommand } from './labels';
import type { EffectBody, Grant, IamProblem, IamRetry, JitRequest, UserRef } from './model';
import {
  advance,
  advanceAhead,
  audit,
  completeEffects,
  effectRetryDelay,
  MAX_RETRY_DELAY_MS,
  rescheduleEffect,
  withoutEffect,
} from './outbox-bookkeeping';
import { SESSION_FOLLOW_UP_MS, type TransitionContext, type TransitionResult } from './transitions';

// What the granter's answers do to a request: a grant that worked (active), failed for good (failed) or is
// waiting for a retry; a revoke that IAM accepted (revoked or ended) or is waiting for a retry. The card and
// the people involved are told the truth at each step: nobody hears "done" before IAM has accepted the change.

/** After this long without success, the people involved are told (once) that IAM is slow. */
export const IAM_SLOW_NOTICE_MS = 2 * 60_000;

type Params = Record<string, string | number>;

function text(ctx: TransitionContext, key: MessageKey, params?: Params): string {
  return t(ctx.locale, key, params);
}

function time(ctx: TransitionContext, epochMs: number): string {
  return formatTime(ctx.locale, epochMs, ctx.timeZone);
}

/** The approvers who approved, each once, never the requester. */
export function deciders(request: JitRequest): UserRef[] {
  const people: UserRef[] = [];
  for (const decision of request.decisions) {
    if (decision.verdict !== 'approve' || samePerson(decision.by, request.requester)) continue;
    if (!people.some((p) => samePerson(p, decision.by))) people.push(decision.by);
  }
  return people;
}

function notifyDeciders(request: JitRequest, message: string): EffectBody[] {
  const people = deciders(request);
  return people.length > 0 ? [{ kind: 'notifyPeople', people, text: message }] : [];
}

// ── grant ───────────────────────────────────────────────────────────────────────────────────────────────

/** The granter succeeded: access is live. `grantEffectId` is removed from the outbox in the same write. */
export function markActive(
  request: JitRequest,
  grant: Grant,
  grantEffectId: string,
  ctx: TransitionContext,
): TransitionResult {
  if (request.status !== 'approved') return { ok: false, refusal: { code: 'not_pending', status: request.status } };
  const node = nodeLabel(request.target);
  const until = time(ctx, grant.expiresAt);
  const command = startSessionCommand(request.target);
  const thread: EffectBody[] = [
    {
      kind: 'threadReply',
      text: text(ctx, 'thread.granted', { requester: request.requester.displayName, node, until, command }),
    },
  ];
  if (grant.dryRun)
    thread.push({ kind: 'threadReply', text: text(ctx, 'thread.dry_run', { detail: grant.detail ?? grant.summary }) });
  return {
    ok: true,
    request: advance(withoutEffect(request, grantEffectId), ctx, { status: 'active', grant, iamRetry: undefined }, [
      { kind: 'updateCards' },
      ...thread,
      { kind: 'notifyRequester', text: text(ctx, 'dm.approved', { id: request.id, node, until, command }) },
      audit({
        action: 'grant.created',
        actor: 'jitbot',
        from: 'approved',
        to: 'active',
        detail: { grantId: grant.grantId, expiresAt: grant.expiresAt, dryRun: grant.dryRun, summary: grant.summary },
      }),
    ]),
  };
}

/** The grant cannot be made (refused, or retries ran out): the request fails and everyone involved is told why. */
export function markFailed(
  request: JitRequest,
  reason: string,
  grantEffectId: string,
  ctx: TransitionContext,
): TransitionResult {
  if (request.status !== 'approved') return { ok: false, refusal: { code: 'not_pending', status: request.status } };
  const node = nodeLabel(request.target);
  const requester = request.requester.displayName;
  return {
    ok: true,
    request: advance(
      withoutEffect(request, grantEffectId),
      ctx,
      { status: 'failed', failureReason: reason, endedAt: ctx.now, iamRetry: undefined },
      [
        { kind: 'updateCards' },
        { kind: 'threadReply', text: text(ctx, 'thread.failed', { reason }) },
        { kind: 'notifyRequester', text: text(ctx, 'dm.failed', { id: request.id, node, reason }) },
        ...notifyDeciders(request, text(ctx, 'dm.failed_approver', { id: request.id, requester, node, reason })),
        audit({ action: 'grant.failed', actor: 'jitbot', from: 'approved', to: 'failed', detail: { reason } }),
      ],
    ),
  };
}

// ── a grant or revoke that IAM did not accept ───────────────────────────────────────────────────────────

export interface IamFailure {
  problem: IamProblem;
  /** The granter refused (GrantRefused): retrying soon will not help. Revokes still retry, slowly, and alert at once. */
  permanent?: boolean;
}

/**
 * A try of the grant or revoke effect `effectId` failed. The effect is rescheduled with back-off and the request
 * says so (`iamRetry`), with notices queued ahead of the waiting effect:
 * - every failure redraws the card ("retry 2 of 12 at 14:05"); the first is also told in the thread;
 * - after IAM_SLOW_NOTICE_MS without success, the requester and the approvers (revokes: the person who revoked)
 *   are told once; a retry is scheduled right at that mark;
 * - a grant whose tries ran out fails the request;
 * - a revoke never gives up while the statement may exist: when its tries ran out (or at once when refused),
 *   admins are alerted once and it keeps retrying every MAX_RETRY_DELAY_MS. The statement's DateLessThan
 *   condition ends the access at its end time whatever happens.
 */
export function noteIamFailure(
  request: JitRequest,
  effectId: string,
  failure: IamFailure,
  maxAttempts: number,
  ctx: TransitionContext,
): JitRequest {
  const effect = request.outbox.find((e) => e.id === effectId);
  if (!effect || (effect.kind !== 'grant' && effect.kind !== 'revoke')) return request;
  const change = effect.kind;
  const failures = (effect.attempts ?? 0) + 1;
  const previous = request.iamRetry?.change === change ? request.iamRetry : undefined;
  const since = previous?.since ?? ctx.now;
  const problem = describeIamProblem(ctx.locale, failure.problem);

  if (change === 'grant' && (failure.permanent || failures >= maxAttempts)) {
    const reason = failure.permanent
      ? problem
      : text(ctx, 'iam.gave_up', { problem, attempts: failures, age: formatDuration(ctx.now - since) });
    const failed = markFailed(request, reason, effectId, ctx);
    return failed.ok ? failed.request : completeEffects(request, [effectId], ctx);
  }

  const exhausted = failure.permanent || failures >= maxAttempts;
  let retryAt = ctx.now + (failure.permanent ? MAX_RETRY_DELAY_MS : effectRetryDelay(failures));
  const slowAt = since + IAM_SLOW_NOTICE_MS;
  if (previous?.slowToldAt === undefined && slowAt > ctx.now && slowAt < retryAt) retryAt = slowAt;
  const retry: IamRetry = {
    change,
    problem: failure.problem,
    failures,
    maxAttempts,
    since,
    retryAt,
    ...(previous?.slowToldAt !== undefined && { slowToldAt: previous.slowToldAt }),
    ...(previous?.alertedAt !== undefined && { alertedAt: previous.alertedAt }),
  };

  const node = nodeLabel(request.target);
  const until = time(ctx, request.grant?.expiresAt ?? ctx.now);
  const expired = request.status === 'revoking' && request.endedBy === undefined;
  const next = { problem, attempt: failures + 1, attempts: maxAttempts, at: time(ctx, retryAt) };
  const effects: EffectBody[] = [{ kind: 'updateCards' }];

  if (failures === 1) {
    const key = change === 'grant' ? 'thread.grant_retry' : expired ? 'thread.expiry_retry' : 'thread.revoke_retry';
    effects.push(
      { kind: 'threadReply', text: text(ctx, key, { ...next, until }) },
      audit({ action: `${change}.delayed`, actor: 'jitbot', detail: { problem: failure.problem.code } }),
    );
  }

  if (retry.slowToldAt === undefined && ctx.now >= slowAt) {
    retry.slowToldAt = ctx.now;
    const params = {
      ...next,
      id: request.id,
      requester: request.requester.displayName,
      node,
      age: formatDuration(ctx.now - since),
      until,
    };
    if (change === 'grant') {
      const message = text(ctx, 'dm.grant_slow', params);
      effects.push({ kind: 'notifyRequester', text: message }, ...notifyDeciders(request, message));
    } else {
      const message = text(ctx, 'dm.revoke_slow', params);
      effects.push({ kind: 'notifyRequester', text: message });
      const by = request.endedBy;
      if (by && !samePerson(by, request.requester)) effects.push({ kind: 'notifyPeople', people: [by], text: message });
    }
  }

  if (change === 'revoke' && exhausted && retry.alertedAt === undefined) {
    retry.alertedAt = ctx.now;
    const alert = text(ctx, 'alert.revoke_stuck', {
      id: request.id,
      requester: request.requester.displayName,
      node,
      problem,
      failures,
      since: time(ctx, since),
      interval: formatDuration(MAX_RETRY_DELAY_MS),
      until,
    });
    effects.push(
      { kind: 'alertAdmins', text: alert },
      { kind: 'threadReply', text: alert },
      audit({ action: 'revoke.stuck', actor: 'jitbot', detail: { problem: failure.problem.code, failures } }),
    );
  }

  return advanceAhead(
    rescheduleEffect(request, effectId, failures, retryAt),
    effectId,
    ctx,
    { iamRetry: retry },
    effects,
  );
}

// ── revoke ──────────────────────────────────────────────────────────────────────────────────────────────

/**
 * IAM accepted the removal and live sessions were ended: only now is the request `revoked` (a person asked) or
 * `ended` (expiry). The thread and the requester are told; a follow-up pass is scheduled for sessions that opened
 * while the change propagated.
 */
export function recordRevocation(
  request: JitRequest,
  revokeEffectId: string,
  sessionsTerminated: number,
  ctx: TransitionContext,
): JitRequest {
  // Requests written before `revoking` existed were already `revoked` or `ended` when their revoke was queued.
  const status = request.status !== 'revoking' ? request.status : request.endedBy ? 'revoked' : 'ended';
  const node = nodeLabel(request.target);
  const sessions = tPlural(ctx.locale, 'sessions.terminated', sessionsTerminated);
  const revokedBy = status === 'revoked' ? request.endedBy : undefined;
  const effects: EffectBody[] = revokedBy
    ? [
        { kind: 'threadReply', text: text(ctx, 'thread.revoked', { by: revokedBy.displayName, node, sessions }) },
        { kind: 'notifyRequester', text: text(ctx, 'dm.revoked', { id: request.id, node, by: revokedBy.displayName }) },
      ]
    : [
        { kind: 'threadReply', text: text(ctx, 'thread.ended', { node, sessions }) },
        { kind: 'notifyRequester', text: text(ctx, 'dm.ended', { id: request.id, node }) },
      ];
  const changes: Partial<JitRequest> = {
    status,
    sessionsFollowUpAt: ctx.now + SESSION_FOLLOW_UP_MS,
    iamRetry: undefined,
  };
  if (request.status === 'revoking') changes.endedAt = ctx.now;
  return advance(withoutEffect(request, revokeEffectId), ctx, changes, [
    { kind: 'updateCards' },
    ...effects,
    audit({
      action: 'grant.removed',
      actor: 'jitbot',
      from: request.status,
      to: status,
      detail: { sessionsTerminated, ...(revokedBy && { revokedBy: personKey(revokedBy) }) },
    }),
  ]);
}

/** Records what the follow-up pass found; sessions it had to end are audited and told in the thread. */
export function recordFollowUp(
  request: JitRequest,
  effectId: string,
  sessionsTerminated: number,
  ctx: TransitionContext,
): JitRequest {
  if (sessionsTerminated === 0) return completeEffects(request, [effectId], ctx);
  return advance(withoutEffect(request, effectId), ctx, {}, [
    {
      kind: 'threadReply',
      text: text(ctx, 'thread.follow_up', {
        node: nodeLabel(request.target),
        sessions: tPlural(ctx.locale, 'sessions.late', sessionsTerminated),
      }),
    },
    audit({ action: 'sessions.terminated_late', actor: 'jitbot', detail: { sessionsTerminated } }),
  ]);
}
