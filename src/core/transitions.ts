import { formatDuration } from './duration';
import { t, formatTime, type Locale, type MessageKey } from './i18n/catalog';
import type {
  ApprovalLevel,
  AuditDraft,
  ChannelRef,
  Decision,
  EffectBody,
  Grant,
  JitRequest,
  Node,
  Requester,
  RequestStatus,
  UserRef,
} from './model';
import type { ManualPolicy } from './policy-model';

// The request lifecycle as pure functions. Each either returns the next version of the request (with the
// side effects it implies queued in its outbox) or a typed refusal. Nothing here performs I/O.
//
//   pending ──approve (last level)──▶ approved ──grant ok──▶ active ──expiry──▶ ended
//      │                                  └──grant failed──▶ failed      └──revoke──▶ revoked
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
  | { code: 'not_active'; status: RequestStatus }
  | { code: 'not_allowed' }
  | { code: 'not_due' };

export type TransitionResult = { ok: true; request: JitRequest } | { ok: false; refusal: Refusal };

export const COMMENT_MAX_LENGTH = 500;
/** IAM changes take a while to reach every endpoint: look for new sessions once more after this long. */
export const SESSION_FOLLOW_UP_MS = 2 * 60_000;

const DECIDED_STATUSES: readonly RequestStatus[] = ['approved', 'active', 'ended', 'revoked', 'failed', 'rejected'];

export function personKey(user: Pick<UserRef, 'platform' | 'userId'>): string {
  return `${user.platform}:${user.userId}`;
}

export function samePerson(a: Pick<UserRef, 'platform' | 'userId'>, b: Pick<UserRef, 'platform' | 'userId'>): boolean {
  return a.platform === b.platform && a.userId === b.userId;
}

export function describeApprovers(level: ApprovalLevel): string {
  return [...level.roles, ...level.users].join(', ');
}

export function nodeLabel(node: Node): string {
  return node.name ? `${node.name} (${node.id})` : node.id;
}

export function startSessionCommand(node: Node): string {
  return `aws ssm start-session --target ${node.id} --region ${node.region}`;
}

function refuse(refusal: Refusal): TransitionResult {
  return { ok: false, refusal };
}

function text(ctx: TransitionContext, key: MessageKey, params?: Record<string, string | number>): string {
  return t(ctx.locale, key, params);
}

function time(ctx: TransitionContext, epochMs: number): string {
  return formatTime(ctx.locale, epochMs, ctx.timeZone);
}

function audit(event: AuditDraft): EffectBody {
  return { kind: 'audit', event };
}

/** The next version of `request` with `changes` applied and `effects` appended to its outbox. */
function advance(
  request: JitRequest,
  ctx: TransitionContext,
  changes: Partial<JitRequest>,
  effects: EffectBody[],
): JitRequest {
  const version = request.version + 1;
  const queued = effects.map((effect, index) => ({ ...effect, id: `${version}.${index}` }));
  return { ...request, ...changes, version, updatedAt: ctx.now, outbox: [...request.outbox, ...queued] };
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
    [audit({ ...created, detail: { policy: policy.name } }), { kind: 'postCard' }],
  );
}

// ── decisions ───────────────────────────────────────────────────────────────────────────────────────────

export interface DecisionInput {
  actor: UserRef;
  actorEmail?: string;
  /** Approver roles the actor may act for here: held by them AND spoken for by the channel of the click. */
  actorRoles: string[];
  /** Every approver role the actor holds, wherever they clicked (tells "wrong channel" from "not an approver"). */
  memberRoles?: string[];
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

/** Which of the level's entry points (named user or role) the actor qualifies through, if any. */
function qualifyingRoles(level: ApprovalLevel, input: DecisionInput): string[] | undefined {
  const keys = [personKey(input.actor), input.actorEmail?.toLowerCase()].filter(Boolean);
  if (level.users.some((u) => keys.includes(u) || keys.includes(u.toLowerCase()))) return [];
  const roles = level.roles.filter((role) => input.actorRoles.includes(role));
  return roles.length > 0 ? roles : undefined;
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
  const roles = qualifyingRoles(level, input);
  if (roles === undefined) {
    const heldElsewhere = level.roles.some((role) => input.memberRoles?.includes(role));
    return heldElsewhere
      ? refuse({ code: 'wrong_channel', approvers: describeApprovers(level) })
      : refuse({ code: 'not_approver', level: levelIndex + 1, approvers: describeApprovers(level) });
  }
  const comment = input.comment?.trim() || undefined;
  const commentLength = comment ? [...comment].length : 0;
  if (commentLength > COMMENT_MAX_LENGTH) {
    return refuse({ code: 'comment_too_long', length: commentLength, max: COMMENT_MAX_LENGTH });
  }

  const decision: Decision = {
    by: input.actor,
    roles,
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
        audit({ action: 'request.rejected', actor, from: 'pending', to: 'rejected', comment, deliveryId: input.deliveryId }),
      ]),
    };
  }

  const approved = approvalsAtLevel({ ...request, decisions }, levelIndex);
  const approvedThread: EffectBody = { kind: 'threadReply', text: text(ctx, 'thread.approved', threadParams) };
  const approvedAudit = (to: RequestStatus, action: string) =>
    audit({ action, actor, from: 'pending', to, comment, deliveryId: input.deliveryId, detail: { level: levelIndex + 1 } });

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

export function cancel(request: JitRequest, actor: UserRef, ctx: TransitionContext, deliveryId?: string): TransitionResult {
  if (!samePerson(actor, request.requester)) {
    return refuse({ code: 'not_requester', requester: request.requester.displayName });
  }
  if (request.status !== 'pending') return refuse({ code: 'not_pending', status: request.status });
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
  if (nextReminderAt === undefined || !reminderIntervalMs || ctx.now < nextReminderAt) return refuse({ code: 'not_due' });
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

// ── grant outcome ───────────────────────────────────────────────────────────────────────────────────────

function withoutEffect(request: JitRequest, effectId: string): JitRequest {
  return { ...request, outbox: request.outbox.filter((e) => e.id !== effectId) };
}

/** The granter succeeded: access is live. `grantEffectId` is removed from the outbox in the same write. */
export function markActive(request: JitRequest, grant: Grant, grantEffectId: string, ctx: TransitionContext): TransitionResult {
  if (request.status !== 'approved') return refuse({ code: 'not_pending', status: request.status });
  const node = nodeLabel(request.target);
  const until = time(ctx, grant.expiresAt);
  const command = startSessionCommand(request.target);
  const thread: EffectBody[] = [
    {
      kind: 'threadReply',
      text: text(ctx, 'thread.granted', { requester: request.requester.displayName, node, until, command }),
    },
  ];
  if (grant.dryRun) thread.push({ kind: 'threadReply', text: text(ctx, 'thread.dry_run', { detail: grant.detail ?? grant.summary }) });
  return {
    ok: true,
    request: advance(withoutEffect(request, grantEffectId), ctx, { status: 'active', grant }, [
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

export function markFailed(request: JitRequest, reason: string, grantEffectId: string, ctx: TransitionContext): TransitionResult {
  if (request.status !== 'approved') return refuse({ code: 'not_pending', status: request.status });
  const node = nodeLabel(request.target);
  return {
    ok: true,
    request: advance(withoutEffect(request, grantEffectId), ctx, { status: 'failed', failureReason: reason, endedAt: ctx.now }, [
      { kind: 'updateCards' },
      { kind: 'threadReply', text: text(ctx, 'thread.failed', { reason }) },
      { kind: 'notifyRequester', text: text(ctx, 'dm.failed', { id: request.id, node, reason }) },
      audit({ action: 'grant.failed', actor: 'jitbot', from: 'approved', to: 'failed', detail: { reason } }),
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

export function expire(request: JitRequest, ctx: TransitionContext): TransitionResult {
  if (request.status !== 'active' || !request.grant) return refuse({ code: 'not_active', status: request.status });
  if (ctx.now < request.grant.expiresAt) return refuse({ code: 'not_due' });
  return {
    ok: true,
    request: advance(request, ctx, { status: 'ended', endedAt: ctx.now }, [
      { kind: 'revoke' },
      { kind: 'updateCards' },
      audit({ action: 'grant.expired', actor: 'jitbot', from: 'active', to: 'ended', detail: { grantId: request.grant.grantId } }),
    ]),
  };
}

/** Early revoke. `allowed` says whether the actor is the requester, an approver of this request or an admin. */
export function revoke(
  request: JitRequest,
  actor: UserRef,
  allowed: boolean,
  ctx: TransitionContext,
  deliveryId?: string,
): TransitionResult {
  if (!allowed) return refuse({ code: 'not_allowed' });
  if (request.status !== 'active') return refuse({ code: 'not_active', status: request.status });
  return {
    ok: true,
    request: advance(request, ctx, { status: 'revoked', endedAt: ctx.now, endedBy: actor }, [
      { kind: 'revoke' },
      { kind: 'updateCards' },
      audit({ action: 'grant.revoked', actor: personKey(actor), from: 'active', to: 'revoked', deliveryId }),
    ]),
  };
}

/** The granter removed access and ended live sessions: tell the thread and the requester. */
export function recordRevocation(
  request: JitRequest,
  revokeEffectId: string,
  sessionsTerminated: number,
  ctx: TransitionContext,
): JitRequest {
  const node = nodeLabel(request.target);
  const revokedBy = request.status === 'revoked' ? request.endedBy : undefined;
  const effects: EffectBody[] = revokedBy
    ? [
        {
          kind: 'threadReply',
          text: text(ctx, 'thread.revoked', { by: revokedBy.displayName, node, sessions: sessionsTerminated }),
        },
        { kind: 'notifyRequester', text: text(ctx, 'dm.revoked', { id: request.id, node, by: revokedBy.displayName }) },
      ]
    : [
        { kind: 'threadReply', text: text(ctx, 'thread.ended', { node, sessions: sessionsTerminated }) },
        { kind: 'notifyRequester', text: text(ctx, 'dm.ended', { id: request.id, node }) },
      ];
  return advance(withoutEffect(request, revokeEffectId), ctx, { sessionsFollowUpAt: ctx.now + SESSION_FOLLOW_UP_MS }, [
    ...effects,
    audit({ action: 'grant.removed', actor: 'jitbot', detail: { sessionsTerminated } }),
  ]);
}

/** The follow-up pass is due: queue one more round of session termination. */
export function followUpSessions(request: JitRequest, ctx: TransitionContext): TransitionResult {
  if (request.status !== 'ended' && request.status !== 'revoked') return refuse({ code: 'not_active', status: request.status });
  if (request.sessionsFollowUpAt === undefined || ctx.now < request.sessionsFollowUpAt) return refuse({ code: 'not_due' });
  return { ok: true, request: advance(request, ctx, { sessionsFollowUpAt: undefined }, [{ kind: 'terminateSessions' }]) };
}

/** Records what the follow-up pass found; sessions it had to end are audited and told in the thread. */
export function recordFollowUp(request: JitRequest, effectId: string, sessionsTerminated: number, ctx: TransitionContext): JitRequest {
  if (sessionsTerminated === 0) return completeEffects(request, [effectId], ctx);
  return advance(withoutEffect(request, effectId), ctx, {}, [
    {
      kind: 'threadReply',
      text: text(ctx, 'thread.follow_up', { node: nodeLabel(request.target), sessions: sessionsTerminated }),
    },
    audit({ action: 'sessions.terminated_late', actor: 'jitbot', detail: { sessionsTerminated } }),
  ]);
}

// ── outbox bookkeeping ──────────────────────────────────────────────────────────────────────────────────

/** Removes performed effects (ids not present are ignored, so a retried completion is harmless). */
export function completeEffects(request: JitRequest, effectIds: string[], ctx: TransitionContext): JitRequest {
  return {
    ...request,
    outbox: request.outbox.filter((e) => !effectIds.includes(e.id)),
    version: request.version + 1,
    updatedAt: ctx.now,
  };
}

/** Wait before retrying a failed effect: 5 s, doubling per attempt, at most 10 minutes. */
export function effectRetryDelay(attempts: number): number {
  return Math.min(10 * 60_000, 5_000 * 2 ** Math.max(0, attempts - 1));
}

/** Counts a failed attempt and schedules the retry; after `maxAttempts` the effect is dropped and the drop is audited. */
export function failEffect(request: JitRequest, effectId: string, error: string, maxAttempts: number, ctx: TransitionContext): JitRequest {
  const effect = request.outbox.find((e) => e.id === effectId);
  if (!effect) return request;
  const attempts = (effect.attempts ?? 0) + 1;
  if (attempts < maxAttempts) {
    const retryAt = ctx.now + effectRetryDelay(attempts);
    return {
      ...request,
      outbox: request.outbox.map((e) => (e.id === effectId ? { ...e, attempts, retryAt } : e)),
      version: request.version + 1,
      updatedAt: ctx.now,
    };
  }
  return advance(withoutEffect(request, effectId), ctx, {}, [
    audit({ action: 'effect.abandoned', actor: 'jitbot', detail: { effect: effect.kind, attempts, error } }),
  ]);
}

/** Records where a card was posted so later effects can update it and reply in its thread. */
export function recordCard(request: JitRequest, card: JitRequest['cards'][number], ctx: TransitionContext): JitRequest {
  const exists = request.cards.some((c) => c.platform === card.platform && c.channelId === card.channelId);
  if (exists) return request;
  return { ...request, cards: [...request.cards, card], version: request.version + 1, updatedAt: ctx.now };
}
