import type { ApprovalCard, CardActionId } from '../../src/core/card';
import { CARD_CONTENT_CAPS, shownComment, shownParts } from '../shared/card-parts';
import { escapeMarkdown, plainText } from './dingtalk-text';

// The DingTalk renderer: the neutral ApprovalCard as the public data of the interactive card template shipped in
// card-template.json. A pure function. DingTalk templates take fixed, string-valued variables, so the card's
// fields, decisions and notices are laid out as one markdown variable; the buttons and the comment box live in the
// template and are shown or hidden by variables. Whatever anyone typed is escaped (dingtalk-text.ts).
//
// Without a template (degraded mode) the same markdown goes out as a robot message, with a line saying how to
// decide by text.

/** The template's variables. Every value is a string (DingTalk requires it; booleans are "true"/"false"). */
export interface CardParams {
  /** Conversation-list summary (plain text). */
  lastMessage: string;
  markdown: string;
  requestId: string;
  /** The request's status (pending, approved, active, …): the template's status tag. */
  status: string;
  statusText: string;
  canApprove: 'true' | 'false';
  canReject: 'true' | 'false';
  canRevoke: 'true' | 'false';
  approveLabel: string;
  rejectLabel: string;
  revokeLabel: string;
  showComment: 'true' | 'false';
  commentLabel: string;
  commentPlaceholder: string;
}

/** What the card shows at most; DingTalk cuts long variables without saying so. */
export const CARD_CAPS = {
  ...CARD_CONTENT_CAPS,
  summary: 120,
  buttonLabel: 30,
  inputLabel: 100,
} as const;

export function renderCardParams(card: ApprovalCard): CardParams & Record<string, string> {
  const action = (id: CardActionId) => card.actions.find((a) => a.id === id);
  const label = (id: CardActionId) => plainText(action(id)?.label ?? id, CARD_CAPS.buttonLabel);
  const flag = (on: boolean): 'true' | 'false' => (on ? 'true' : 'false');
  const commentInput = shownParts(card, CARD_CAPS).commentInput;
  return {
    lastMessage: plainText(`${card.title} · ${card.statusText}`, CARD_CAPS.summary),
    markdown: renderCardMarkdown(card),
    requestId: card.requestId,
    status: card.status,
    statusText: plainText(card.statusText, CARD_CAPS.statusText),
    canApprove: flag(action('approve') !== undefined),
    canReject: flag(action('reject') !== undefined),
    canRevoke: flag(action('revoke') !== undefined),
    approveLabel: label('approve'),
    rejectLabel: label('reject'),
    revokeLabel: label('revoke'),
    showComment: flag(commentInput !== undefined),
    commentLabel: commentInput ? plainText(commentInput.label, CARD_CAPS.inputLabel) : '',
    commentPlaceholder: commentInput ? plainText(commentInput.placeholder, CARD_CAPS.inputLabel) : '',
  };
}

/** The card's content as DingTalk markdown: title, status, notices, fields, reason, decisions, footer. */
export function renderCardMarkdown(card: ApprovalCard): string {
  const C = CARD_CAPS;
  const shown = shownParts(card, C);
  const lines: string[] = [
    `#### ${escapeMarkdown(card.title, C.title)}`,
    '',
    `**${escapeMarkdown(card.statusText, C.statusText)}**`,
  ];
  if (card.progress !== undefined) lines.push('', escapeMarkdown(card.progress, C.statusText));
  for (const notice of shown.notices) lines.push('', `> ⚠️ ${escapeMarkdown(notice, C.notice)}`);
  if (shown.fields.length > 0) {
    lines.push('');
    for (const field of shown.fields)
      lines.push(`- **${escapeMarkdown(field.label, C.fieldLabel)}:** ${escapeMarkdown(field.value, C.fieldValue)}`);
  }
  lines.push('', `**${escapeMarkdown(card.reasonLabel, C.fieldLabel)}**`, '', escapeMarkdown(card.reason, C.reason));
  if (shown.decisions.length > 0) {
    lines.push('', '---');
    for (const decision of shown.decisions) {
      lines.push('', escapeMarkdown(decision.text, C.decisionText));
      const comment = shownComment(decision);
      if (comment !== undefined) lines.push('', `> “${escapeMarkdown(comment, C.comment)}”`);
    }
  }
  if (card.footer !== undefined) lines.push('', '---', '', escapeMarkdown(card.footer, C.footer));
  return lines.join('\n');
}

/**
 * Degraded mode (no card template configured): the card as a markdown robot message, plus how to decide by
 * typing, while a decision can still be made here.
 */
export function renderDegradedCard(card: ApprovalCard, robotName: string): { title: string; text: string } {
  const lines = [renderCardMarkdown(card)];
  const can = (id: CardActionId) => card.actions.some((a) => a.id === id);
  const mention = `@${robotName}`;
  const id = card.requestId;
  const commands: string[] = [];
  if (can('approve')) commands.push(`${mention} approve ${id} …`);
  if (can('reject')) commands.push(`${mention} reject ${id} …`);
  if (can('revoke')) commands.push(`${mention} revoke ${id}`);
  if (commands.length > 0) lines.push('', '---', '', ...commands.map((command) => `- ${escapeMarkdown(command, 200)}`));
  return { title: plainText(card.title, CARD_CAPS.title), text: lines.join('\n') };
}
