import { mayCancel, mayDecide, mayRevoke, userRefOf, type Person } from './authority';
import { formatDuration } from './duration';
import { t, type Locale, type MessageKey } from './i18n/catalog';
import { describeApprovers, nodeLabel, personKey, samePerson } from './labels';
import type {
  AuditDraft,
  ChannelRef,
  Decision,
  EffectBody,
  JitRequest,
  Node,
  Requester,
  RequestStatus,
  UserRef,
} from './model';
import { advance, audit } from './outbox-bookkeeping';
import type { ManualPolicy } from './policy-model';

// The request lifecycle as pure functions. Each either returns the next version of the request (with the
// side effects it implies queued in its outbox) or a typed refusal. Nothing here performs I/O. What happens when
// the granter answers (active, failed, retrying, revoked, ended) is in iam-outcomes.ts.
//
//   pending ──approve (last level)──▶ approved ──grant ok──▶ active ──expiry or revoke──▶ revoking ──IAM ok──▶ ended | revoked
//      │                                  └──grant failed (refused, or retries ran out)──▶ failed
//      ├──reject──▶ rejected   ├──cancel──▶ cancelled   └──time-out──▶ timed_out

export interface TransitionContext {
  now: number;
  locale: Locale;
  timeZone: string;
}

export type Refusal =
  | { code: 'already_decided'; status: RequestStatus; by?: UserRef; at?: number }
  | { code: 'not_pending'; status: RequestStatus }
  | { code: 'self_approval' }
  | { code: 'not_approver'; level: number; approvers: string }
  /** The person holds the level's role, but clicked in a channel that does not speak for it. */
  | { code: 'wrong_channel'; approvers: string }
  | { code: 'already_voted'; level: number }
  | { code: 'comment_too_long'; length: number; max: number }
  | { code: 'not_requester'; requester: string }
  /** Cancel on a request that is no longer pending (an active one is ended with revoke instead). */
  | { code: 'not_cancellable'; status: RequestStatus }
  | { code: 'not_active'; status: RequestStatus }
  /** Revoke while the first removal from IAM is still under way. */
  | { code: 'already_revoking' }
  | { code: 'not_allowed' }
  | { code: 'not_due' };

export type TransitionResult = { ok: true; request: JitRequest } | { ok: false; refusal: Refusal };

export const COMMENT_MAX_LENGTH = 500;
/** IAM changes take a while to reach every endpoint: look for new sessions once more after this long. */
export const SESSION_FOLLOW_UP_MS = 2 * 60_000;

const DECIDED_STATUSES: readonly RequestStatus[] = [
  'approved',
  'active',
  'revoking',
  'ended',
  'revoked',
  'failed',
  'rejected',
];

function refuse(refusal: Refusal): TransitionResult {
  return { ok: false, refusal };
}

function text(ctx: TransitionContext, key: MessageKey, params?: Record<string, string | number>): string {
  return t(ctx.locale, key, params);
}

// ── creation ────────────────────────────────────────────────────────────────────────────────────────────

export interface NewRequestInput {
  id: string;
  requester: Requester;
  origin: ChannelRef;
  target: Node;
  reason: string;
  durationMs: number;
  decidedBy: { kind: 'manual'; policy: ManualPolicy } | { kind: 'auto'; policyName: string };
  /** Warn the requester this long before access ends (0 = never). */
  warnBeforeMs: number;
  deliveryId?: string;
}

export function newRequest(input: NewRequestInput, ctx: TransitionContext): JitRequest {
  const base: JitRequest = {
    id: input.id,
    requester: input.requester,
    origin: input.origin,
    target: input.target,
    reason: input.reason,
    durationMs: input.durationMs,
    policy: { name: '', kind: 'manual' },
    levels: [],
    currentLevel: 0,
    decisions: [],
    status: 'pending',
    version: 0,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    timeoutAt: ctx.now,
    warnBeforeMs: input.warnBeforeMs,
    cards: [],
    outbox: [],
  };
  const actor = personKey(input.requester);
  const created: AuditDraft = { action: 'request.created', actor, to: 'pending', deliveryId: input.deliveryId };
  if (input.decidedBy.kind === 'auto') {
    const policy = input.decidedBy.policyName;
    return advance(base, ctx, { policy: { name: policy, kind: 'auto' }, status: 'approved' }, [
      audit({ ...created, to: 'approved', detail: { policy, autoApproved: true } }),
      { kind: 'grant' },
    ]);
  }
  const { policy } = input.decidedBy;
  const reminders = policy.reminderIntervalMs > 0;
  return advance(
    base,
    ctx,
    {
      policy: { name: policy.name, kind: 'manual' },
      levels: policy.levels,
      timeoutAt: ctx.now + policy.timeoutMs,
      reminderIntervalMs: reminders ? policy.reminderIntervalMs : undefined,
      nextReminderAt: reminders ? ctx.now + policy.reminderIntervalMs : undefined,
    },
    // The card first: approvers see it without waiting for the audit write (effects run in order).
    [{ kind: 'postCard' }, audit({ ...created, detail: { policy: policy.name } })],
  );
}

// ── decisions ───────────────────────────────────────────────────────────────────────────────────────────

export interface DecisionInput {
  /** Who clicked, with the approver roles they hold (anywhere). */
  actor: Person;
  /** The approver roles the channel of the click speaks for: roles count only where their channel is. */
  channelRoles: readonly string[];
  verdict: 'approve' | 'reject';
  comment?: string;
  deliveryId?: string;
}

/** The decision that closed the request (for "already approved by Alice at 14:03"). */
export function closingDecision(request: JitRequest): Decision | undefined {
  const wanted = request.status === 'rejected' ? 'reject' : 'approve';
  return [...request.decisions].reverse().find((d) => d.verdict === wanted);
}

function alreadyDecided(request: JitRequest): TransitionResult {
  if (!DECIDED_STATUSES.includes(request.status)) return refuse({ code: 'not_pending', status: request.status });
  const closing = closingDecision(request);
  return refuse({ code: 'already_decided', status: request.status, by: closing?.by, at: closing?.at });
}

export function approvalsAtLevel(request: JitRequest, level: number): number {
  return request.decisions.filter((d) => d.level === level && d.verdict === 'approve').length;
}

function withComment(comment: string | undefined): string {
  return comment ? ` — “${comment}”` : '';
}

export function decide(request: JitRequest, input: DecisionInput, ctx: TransitionContext): TransitionResult {
  if (request.status !== 'pending') return alreadyDecided(request);
  if (samePerson(input.actor, request.requester)) return refuse({ code: 'self_approval' });
  const levelIndex = request.currentLevel;
  const level = request.levels[levelIndex];
  if (!level) return refuse({ code: 'not_pending', status: request.status });
  if (request.decisions.some((d) => samePerson(d.by, input.actor))) {
    const previous = request.decisions.find((d) => samePerson(d.by, input.actor))!;
    return refuse({ code: 'already_voted', level: previous.level + 1 });
  }
  const here = { ...input.actor, roles: input.actor.roles.filter((role) => input.channelRoles.includes(role)) };
  const standing = mayDecide(level, here);
  if (!standing) {
    return mayDecide(level, input.actor)
      ? refuse({ code: 'wrong_channel', approvers: describeApprovers(level) })
      : refuse({ code: 'not_approver', level: levelIndex + 1, approvers: describeApprovers(level) });
  }
  const comment = input.comment?.trim() || undefined;
  const commentLength = comment ? [...comment].length : 0;
  if (commentLength > COMMENT_MAX_LENGTH) {
    return refuse({ code: 'comment_too_long', length: commentLength, max: COMMENT_MAX_LENGTH });
  }

  const decision: Decision = {
    by: userRefOf(input.actor),
    roles: standing.roles,
    level: levelIndex,
    verdict: input.verdict,
    comment,
    at: ctx.now,
  };
  const decisions = [...request.decisions, decision];
  const actor = personKey(input.actor);
  const threadParams = { by: input.actor.displayName, level: levelIndex + 1, comment: withComment(comment) };

  if (input.verdict === 'reject') {
    return {
      ok: true,
      request: advance(request, ctx, { decisions, status: 'rejected', nextReminderAt: undefined }, [
        { kind: 'updateCards' },
        { kind: 'threadReply', text: text(ctx, 'thread.rejected', threadParams) },
        {
          kind: 'notifyRequester',
          text: text(ctx, 'dm.rejected', {
            id: request.id,
            node: nodeLabel(request.target),
            by: input.actor.displayName,
            comment: withComment(comment),
          }),
        },
        audit({
          action: 'request.rejected',
          actor,
          from: 'pending',
          to: 'rejected',
          comment,
          deliveryId: input.deliveryId,
        }),
      ]),
    };
  }

  const approved = approvalsAtLevel({ ...request, decisions }, levelIndex);
  const approvedThread: EffectBody = { kind: 'threadReply', text: text(ctx, 'thread.approved', threadParams) };
  const approvedAudit = (to: RequestStatus, action: string) =>
    audit({
      action,
      actor,
      from: 'pending',
      to,
      comment,
      deliveryId: input.deliveryId,
      detail: { level: levelIndex + 1 },
    });

  if (approved < level.required) {
    return {
      ok: true,
      request: advance(request, ctx, { decisions }, [
        { kind: 'updateCards' },
        approvedThread,
        approvedAudit('pending', 'request.approval_recorded'),
      ]),
    };
  }

  const nextLevel = levelIndex + 1;
  const next = request.levels[nextLevel];
  if (next) {
    return {
      ok: true,
      request: advance(request, ctx, { decisions, currentLevel: nextLevel }, [
        { kind: 'updateCards' },
        approvedThread,
        {
          kind: 'threadReply',
          text: text(ctx, 'thread.level_open', {
            level: nextLevel + 1,
            levels: request.levels.length,
            approvers: describeApprovers(next),
          }),
        },
        { kind: 'postCard' },
        {
          kind: 'notifyRequester',
          text: text(ctx, 'dm.level_approved', {
            id: request.id,
            level: levelIndex + 1,
            by: input.actor.displayName,
            next: nextLevel + 1,
            approvers: describeApprovers(next),
          }),
        },
        approvedAudit('pending', 'request.level_approved'),
      ]),
    };
  }

  return {
    ok: true,
    request: advance(
      request,
      ctx,
      { decisions, currentLevel: request.levels.length, status: 'approved', nextReminderAt: undefined },
      [{ kind: 'updateCards' }, approvedThread, approvedAudit('approved', 'request.approved'), { kind: 'grant' }],
    ),
  };
}

// ── requester actions, time-outs and reminders ──────────────────────────────────────────────────────────

export function cancel(
  request: JitRequest,
  actor: Person,
  ctx: TransitionContext,
  deliveryId?: string,
): TransitionResult {
  if (!mayCancel(request, actor)) return refuse({ code: 'not_requester', requester: request.requester.displayName });
  if (request.status !== 'pending') return refuse({ code: 'not_cancellable', status: request.status });
  return {
    ok: true,
    request: advance(request, ctx, { status: 'cancelled', nextReminderAt: undefined, endedAt: ctx.now }, [
      { kind: 'updateCards' },
      { kind: 'threadReply', text: text(ctx, 'thread.cancelled', { id: request.id, requester: actor.displayName }) },
      audit({ action: 'request.cancelled', actor: personKey(actor), from: 'pending', to: 'cancelled', deliveryId }),
    ]),
  };
}

export function timeOut(request: JitRequest, ctx: TransitionContext): TransitionResult {
  if (request.status !== 'pending') return refuse({ code: 'not_pending', status: request.status });
  if (ctx.now < request.timeoutAt) return refuse({ code: 'not_due' });
  const node = nodeLabel(request.target);
  return {
    ok: true,
    request: advance(request, ctx, { status: 'timed_out', nextReminderAt: undefined, endedAt: ctx.now }, [
      { kind: 'updateCards' },
      { kind: 'threadReply', text: text(ctx, 'thread.timed_out', { id: request.id }) },
      { kind: 'notifyRequester', text: text(ctx, 'dm.timed_out', { id: request.id, node }) },
      audit({ action: 'request.timed_out', actor: 'jitbot', from: 'pending', to: 'timed_out' }),
    ]),
  };
}

export function remind(request: JitRequest, ctx: TransitionContext): TransitionResult {
  const { nextReminderAt, reminderIntervalMs } = request;
  if (request.status !== 'pending') return refuse({ code: 'not_pending', status: request.status });
  if (nextReminderAt === undefined || !reminderIntervalMs || ctx.now < nextReminderAt)
    return refuse({ code: 'not_due' });
  const level = request.levels[request.currentLevel];
  let following = nextReminderAt;
  while (following <= ctx.now) following += reminderIntervalMs;
  return {
    ok: true,
    request: advance(request, ctx, { nextReminderAt: following < request.timeoutAt ? following : undefined }, [
      {
        kind: 'threadReply',
        text: text(ctx, 'reminder', {
          id: request.id,
          requester: request.requester.displayName,
          node: nodeLabel(request.target),
          age: formatDuration(ctx.now - request.createdAt),
          approvers: level ? describeApprovers(level) : '',
        }),
      },
    ]),
  };
}

// ── expiry and revocation ───────────────────────────────────────────────────────────────────────────────

export function warnExpiry(request: JitRequest, ctx: TransitionContext): TransitionResult {
  const { grant, warnBeforeMs } = request;
  if (request.status !== 'active' || !grant) return refuse({ code: 'not_active', status: request.status });
  if (!warnBeforeMs || request.expiryWarnedAt !== undefined || ctx.now < grant.expiresAt - warnBeforeMs) {
    return refuse({ code: 'not_due' });
  }
  const params = {
    id: request.id,
    node: nodeLabel(request.target),
    requester: request.requester.displayName,
    left: formatDuration(grant.expiresAt - ctx.now),
  };
  return {
    ok: true,
    request: advance(request, ctx, { expiryWarnedAt: ctx.now }, [
      { kind: 'threadReply', text: text(ctx, 'thread.expiry_warning', params) },
      { kind: 'notifyRequester', text: text(ctx, 'dm.expiry_warning', params) },
    ]),
  };
}

/**
 * The grant's end time has come: access is being removed (`revoking`) until IAM accepts the removal. The statement's
 * DateLessThan condition already stops new sessions; the revoke removes it and then ends live sessions.
 */
export function expire(request: JitRequest, ctx: TransitionContext): TransitionResult {
  if (request.status !== 'active' || !request.grant) return refuse({ code: 'not_active', status: request.status });
  if (ctx.now < request.grant.expiresAt) return refuse({ code: 'not_due' });
  return {
    ok: true,
    request: advance(request, ctx, { status: 'revoking', revokeRequestedAt: ctx.now }, [
      { kind: 'updateCards' },
      audit({
        action: 'grant.expired',
        actor: 'jitbot',
        from: 'active',
        to: 'revoking',
        detail: { grantId: request.grant.grantId },
      }),
      { kind: 'revoke' },
    ]),
  };
}

/**
 * Early revoke by the requester, an approver of the request or an admin: `revoking` until IAM accepts the removal.
 * On a request already `revoking` whose removal is waiting for a retry, the retry happens now.
 */
export function revoke(
  request: JitRequest,
  actor: Person,
  ctx: TransitionContext,
  deliveryId?: string,
): TransitionResult {
  if (!mayRevoke(request, actor)) return refuse({ code: 'not_allowed' });
  if (request.status === 'revoking') return retryRevokeNow(request, actor, ctx, deliveryId);
  if (request.status !== 'active') return refuse({ code: 'not_active', status: request.status });
  return {
    ok: true,
    request: advance(request, ctx, { status: 'revoking', revokeRequestedAt: ctx.now, endedBy: userRefOf(actor) }, [
      { kind: 'updateCards' },
      audit({ action: 'grant.revoke_requested', actor: personKey(actor), from: 'active', to: 'revoking', deliveryId }),
      { kind: 'revoke' },
    ]),
  };
}

function retryRevokeNow(
  request: JitRequest,
  actor: Person,
  ctx: TransitionContext,
  deliveryId?: string,
): TransitionResult {
  const waiting = request.outbox.find((e) => e.kind === 'revoke' && e.retryAt !== undefined && e.retryAt > ctx.now);
  if (!waiting || !request.iamRetry) return refuse({ code: 'already_revoking' });
  const outbox = request.outbox.map((e) => (e.id === waiting.id ? { ...e, retryAt: ctx.now } : e));
  return {
    ok: true,
    request: advance({ ...request, outbox }, ctx, { iamRetry: { ...request.iamRetry, retryAt: ctx.now } }, [
      { kind: 'updateCards' },
      audit({ action: 'grant.revoke_retried', actor: personKey(actor), deliveryId }),
    ]),
  };
}

/** The follow-up pass is due: queue one more round of session termination. */
export function followUpSessions(request: JitRequest, ctx: TransitionContext): TransitionResult {
  if (request.status !== 'ended' && request.status !== 'revoked')
    return refuse({ code: 'not_active', status: request.status });
  if (request.sessionsFollowUpAt === undefined || ctx.now < request.sessionsFollowUpAt)
    return refuse({ code: 'not_due' });
  return {
    ok: true,
    request: advance(request, ctx, { sessionsFollowUpAt: undefined }, [{ kind: 'terminateSessions' }]),
  };
}
