import type { ApprovalCard, CardActionId } from '../../src/core/card';
import type { RequestStatus } from '../../src/core/model';
import { commentMaxLength, shownParts } from '../shared/card-parts';
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
  // The page gets the card's comment box and decisions' comments as the card has them; it decides what to draw.
  const { notices, fields, decisions, actions } = shownParts(card, L);
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
    fields: fields.map((field) => ({
      label: renderPlainText(field.label, L.label),
      value: renderPlainText(field.value, L.fieldValue),
    })),
    reasonLabel: renderPlainText(card.reasonLabel, L.label),
    reason: renderPlainText(card.reason, L.reason),
    ...(card.progress !== undefined && { progress: renderPlainText(card.progress, L.statusText) }),
    decisions: decisions.map((decision) => ({
      verdict: decision.verdict,
      by: renderPlainText(decision.by.displayName, L.label),
      text: renderPlainText(decision.text, L.decisionText),
      ...(decision.comment !== undefined && { comment: renderPlainText(decision.comment, L.comment) }),
      at: decision.at,
    })),
    notices: notices.map((notice) => renderPlainText(notice, L.notice)),
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
        maxLength: commentMaxLength(card.commentInput.maxLength, L.commentMaxLength),
      },
    }),
    ...(card.footer !== undefined && { footer: renderPlainText(card.footer, L.footer) }),
  };
}
