import type { ApprovalCard, CardAction, CardField } from './card';
import { formatDuration } from './duration';
import { t, formatTime, type Locale, type MessageKey } from './i18n/catalog';
import { describeApprovers, describeIamProblem, nodeLabel } from './labels';
import type { ApprovalLevel, JitRequest } from './model';
import { approvalsAtLevel, closingDecision, COMMENT_MAX_LENGTH } from './transitions';

export interface CardContext {
  locale: Locale;
  timeZone: string;
  /** True when no AWS account is configured. */
  dryRun: boolean;
  /** Tag keys shown on the card (e.g. Env, Owner). */
  cardTags: string[];
}

const READY_PING = 'Online';

export interface CardPlacement {
  /** False for a card in a channel that does not speak for the open level: it shows progress but no buttons. */
  decidable: boolean;
}

/** The one neutral approval card for a request in its current state, as shown in one channel. */
export function buildCard(
  request: JitRequest,
  ctx: CardContext,
  placement: CardPlacement = { decidable: true },
): ApprovalCard {
  const say = (key: MessageKey, params?: Record<string, string | number>) => t(ctx.locale, key, params);
  const at = (ms: number) => formatTime(ctx.locale, ms, ctx.timeZone);
  const node = request.target;
  const nodeName = node.name ?? node.id;

  const fields: CardField[] = [
    { label: say('card.field.requester'), value: request.requester.displayName },
    { label: say('card.field.node'), value: nodeLabel(node) },
    { label: say('card.field.account'), value: node.account },
    { label: say('card.field.region'), value: node.region },
  ];
  if (node.state) fields.push({ label: say('card.field.state'), value: node.state });
  if (node.pingStatus) fields.push({ label: say('card.field.ssm'), value: node.pingStatus });
  for (const key of ctx.cardTags) {
    const value = node.tags[key];
    if (value !== undefined) fields.push({ label: say('card.field.tag', { key }), value });
  }
  fields.push({ label: say('card.field.duration'), value: formatDuration(request.durationMs) });
  fields.push({ label: say('card.field.policy'), value: request.policy.name });
  fields.push(...timingFields(request, say, at));

  const level = request.levels[request.currentLevel];
  const pending = request.status === 'pending' && level !== undefined;
  const notices: string[] = [];
  if (ctx.dryRun) notices.push(say('card.notice.dry_run'));
  if (node.pingStatus && node.pingStatus !== READY_PING) {
    notices.push(say('card.notice.not_registered', { node: nodeName, ping: node.pingStatus }));
  }
  notices.push(...revokeNotices(request, ctx.locale, say, at));

  const actions: CardAction[] = [];
  const decidableHere = pending && placement.decidable;
  if (decidableHere) {
    actions.push(
      {
        id: 'approve',
        label: say('card.action.approve'),
        style: 'primary',
        confirm: {
          title: say('card.confirm.title', { id: request.id }),
          text: confirmText(request, level, nodeName, say),
          confirm: say('card.confirm.yes'),
          deny: say('card.confirm.no'),
        },
      },
      { id: 'reject', label: say('card.action.reject'), style: 'danger' },
    );
  } else if (request.status === 'active' || (request.status === 'revoking' && request.iamRetry?.change === 'revoke')) {
    // While a revoke waits for its retry, the button tries again now.
    actions.push({ id: 'revoke', label: say('card.action.revoke'), style: 'danger' });
  }

  return {
    requestId: request.id,
    version: request.version,
    status: request.status,
    title: say('card.title', { id: request.id, node: nodeName }),
    statusText: statusText(request, ctx),
    requester: request.requester,
    fields,
    reason: request.reason,
    reasonLabel: say('card.reason'),
    progress: pending
      ? say('card.progress', {
          level: request.currentLevel + 1,
          levels: request.levels.length,
          count: approvalsAtLevel(request, request.currentLevel),
          required: level.required,
        })
      : undefined,
    decisions: request.decisions.map((d) => ({
      by: d.by,
      verdict: d.verdict,
      comment: d.comment,
      at: d.at,
      text: say(d.verdict === 'approve' ? 'card.decision.approve' : 'card.decision.reject', {
        by: d.by.displayName,
        level: d.level + 1,
        time: at(d.at),
      }),
    })),
    actions,
    commentInput: decidableHere
      ? {
          label: say('card.comment.label'),
          placeholder: say('card.comment.placeholder'),
          maxLength: COMMENT_MAX_LENGTH,
        }
      : undefined,
    notices,
    footer: say('card.footer', { at: at(request.createdAt), policy: request.policy.name }),
  };
}

/** One line saying where the request stands ("⏳ Waiting for Level 2 of 2: security-leads", "✅ Approved — granting access…"). */
export function statusText(request: JitRequest, ctx: Pick<CardContext, 'locale' | 'timeZone'>): string {
  const say = (key: MessageKey, params?: Record<string, string | number>) => t(ctx.locale, key, params);
  const at = (ms: number) => formatTime(ctx.locale, ms, ctx.timeZone);
  switch (request.status) {
    case 'pending': {
      const level = request.levels[request.currentLevel];
      return say('card.status.pending', {
        level: request.currentLevel + 1,
        levels: request.levels.length,
        approvers: level ? describeApprovers(level) : '',
      });
    }
    case 'approved': {
      const retry = request.iamRetry;
      if (retry?.change !== 'grant') return say('card.status.approved');
      return say('card.status.granting_retry', {
        problem: describeIamProblem(ctx.locale, retry.problem),
        attempt: retry.failures + 1,
        attempts: retry.maxAttempts,
        at: at(retry.retryAt),
      });
    }
    case 'active':
      return say('card.status.active', { until: request.grant ? at(request.grant.expiresAt) : '' });
    case 'revoking': {
      const requestedAt = request.revokeRequestedAt ?? request.updatedAt;
      return request.endedBy
        ? say('card.status.revoking', { by: request.endedBy.displayName, at: at(requestedAt) })
        : say('card.status.ending', { at: at(request.grant?.expiresAt ?? requestedAt) });
    }
    case 'ended':
      return say('card.status.ended', { at: at(request.endedAt ?? request.updatedAt) });
    case 'revoked':
      return say('card.status.revoked', {
        by: request.endedBy?.displayName ?? 'jitbot',
        at: at(request.endedAt ?? request.updatedAt),
      });
    case 'rejected':
      return say('card.status.rejected', { by: closingDecision(request)?.by.displayName ?? '' });
    case 'cancelled':
      return say('card.status.cancelled');
    case 'timed_out':
      return say('card.status.timed_out', { timeout: formatDuration(request.timeoutAt - request.createdAt) });
    case 'failed':
      return say('card.status.failed', { reason: request.failureReason ?? '' });
  }
}

type Say = (key: MessageKey, params?: Record<string, string | number>) => string;
type At = (epochMs: number) => string;

/** When access ends or ended: "Expires" while it may still be live, "Revoked" / "Ended" once IAM removed it. */
function timingFields(request: JitRequest, say: Say, at: At): CardField[] {
  const { grant, endedAt } = request;
  if (!grant) return [];
  if (request.status === 'revoked' && endedAt !== undefined)
    return [{ label: say('card.field.revoked'), value: at(endedAt) }];
  if (request.status === 'ended' && endedAt !== undefined)
    return [{ label: say('card.field.ended'), value: at(endedAt) }];
  return [{ label: say('card.field.expires'), value: at(grant.expiresAt) }];
}

/** A revoke IAM has not accepted yet: how the retries go, and that the IAM condition ends the access anyway. */
function revokeNotices(request: JitRequest, locale: Locale, say: Say, at: At): string[] {
  const retry = request.iamRetry;
  if (request.status !== 'revoking' || retry?.change !== 'revoke') return [];
  const problem = describeIamProblem(locale, retry.problem);
  const stuck = retry.alertedAt !== undefined;
  const notices = [
    stuck
      ? say('card.notice.iam_stuck', { problem, failures: retry.failures, at: at(retry.retryAt) })
      : say('card.notice.iam_retry', {
          problem,
          attempt: retry.failures + 1,
          attempts: retry.maxAttempts,
          at: at(retry.retryAt),
        }),
  ];
  const until = request.grant?.expiresAt;
  if (until !== undefined) {
    const expired = request.endedBy === undefined;
    notices.push(say(expired ? 'card.notice.expired_in_iam' : 'card.notice.date_less_than', { until: at(until) }));
  }
  return notices;
}

/** The approve dialog promises access only when this approval is the last one needed. */
function confirmText(request: JitRequest, level: ApprovalLevel, nodeName: string, say: Say): string {
  const count = approvalsAtLevel(request, request.currentLevel);
  const last = request.currentLevel === request.levels.length - 1 && count + 1 >= level.required;
  const requester = request.requester.displayName;
  if (last)
    return say('card.confirm.text', { requester, node: nodeName, duration: formatDuration(request.durationMs) });
  return say('card.confirm.partial', {
    level: request.currentLevel + 1,
    levels: request.levels.length,
    count,
    required: level.required,
    requester,
    node: nodeName,
  });
}
