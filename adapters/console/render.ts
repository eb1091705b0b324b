import { isCardActionId, type ApprovalCard, type CardActionId } from '../../src/core/card';
import type { RequestStatus } from '../../src/core/model';
import { renderPlainText } from '../shared/plain-text';

// The console's renderer: turns the neutral ApprovalCard into the JSON the page draws. Nearly identity, but it is
// where lengths are capped and where text is reduced to plain characters (the page shows everything with
// textContent, so there is no markup to escape; this only removes characters that could disguise text).

export interface ConsoleCard {
  requestId: string;
  version: number;
  status: RequestStatus;
  title: string;
  statusText: string;
  requester: { userId: string; displayName: string };
  fields: { label: string; value: string }[];
  reasonLabel: string;
  reason: string;
  progress?: string;
  decisions: { verdict: 'approve' | 'reject'; by: string; text: string; comment?: string; at: number }[];
  notices: string[];
  actions: {
    id: CardActionId;
    label: string;
    style: 'primary' | 'danger' | 'default';
    confirm?: { title: string; text: string; confirm: string; deny: string };
  }[];
  commentInput?: { label: string; placeholder: string; maxLength: number };
  footer?: string;
}

export const CARD_LIMITS = {
  title: 200,
  statusText: 300,
  label: 80,
  fieldValue: 1000,
  fields: 25,
  reason: 2000,
  decisions: 50,
  decisionText: 500,
  comment: 1000,
  notices: 10,
  notice: 1000,
  confirmText: 500,
  footer: 500,
  commentMaxLength: 2000,
} as const;

export function renderCard(card: ApprovalCard): ConsoleCard {
  const L = CARD_LIMITS;
  const seenActions = new Set<CardActionId>();
  const actions = card.actions.filter((action) => {
    if (!isCardActionId(action.id) || seenActions.has(action.id)) return false;
    seenActions.add(action.id);
    return true;
  });

  return {
    requestId: card.requestId,
    version: card.version,
    status: card.status,
    title: renderPlainText(card.title, L.title),
    statusText: renderPlainText(card.statusText, L.statusText),
    requester: {
      userId: card.requester.userId,
      displayName: renderPlainText(card.requester.displayName, L.label),
    },
    fields: card.fields.slice(0, L.fields).map((field) => ({
      label: renderPlainText(field.label, L.label),
      value: renderPlainText(field.value, L.fieldValue),
    })),
    reasonLabel: renderPlainText(card.reasonLabel, L.label),
    reason: renderPlainText(card.reason, L.reason),
    ...(card.progress !== undefined && { progress: renderPlainText(card.progress, L.statusText) }),
    decisions: card.decisions.slice(-L.decisions).map((decision) => ({
      verdict: decision.verdict,
      by: renderPlainText(decision.by.displayName, L.label),
      text: renderPlainText(decision.text, L.decisionText),
      ...(decision.comment !== undefined && { comment: renderPlainText(decision.comment, L.comment) }),
      at: decision.at,
    })),
    notices: card.notices.slice(0, L.notices).map((notice) => renderPlainText(notice, L.notice)),
    actions: actions.map((action) => ({
      id: action.id,
      label: renderPlainText(action.label, L.label),
      style: action.style,
      ...(action.confirm && {
        confirm: {
          title: renderPlainText(action.confirm.title, L.label),
          text: renderPlainText(action.confirm.text, L.confirmText),
          confirm: renderPlainText(action.confirm.confirm, L.label),
          deny: renderPlainText(action.confirm.deny, L.label),
        },
      }),
    })),
    ...(card.commentInput && {
      commentInput: {
        label: renderPlainText(card.commentInput.label, L.label),
        placeholder: renderPlainText(card.commentInput.placeholder, L.label),
        maxLength: clampCommentLength(card.commentInput.maxLength),
      },
    }),
    ...(card.footer !== undefined && { footer: renderPlainText(card.footer, L.footer) }),
  };
}

function clampCommentLength(maxLength: number): number {
  if (!Number.isFinite(maxLength)) return CARD_LIMITS.commentMaxLength;
  return Math.min(Math.max(1, Math.floor(maxLength)), CARD_LIMITS.commentMaxLength);
}
