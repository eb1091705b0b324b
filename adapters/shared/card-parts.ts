import {
  isCardActionId,
  type ApprovalCard,
  type CardAction,
  type CardActionId,
  type CardDecision,
  type CardField,
} from '../../src/core/card';

// Which parts of the neutral ApprovalCard a renderer shows, the same on every platform: the first notices and
// fields, the latest decisions, each button once, and the comment box only next to buttons. How many of each a
// platform shows (its caps) and how they look are the renderer's business.

/**
 * How much of a card's content jitbot shows at most, in characters (notices, fields, decisions: how many), on the
 * platforms whose cards hold that much (Teams, Feishu, DingTalk). A renderer's own CARD_CAPS starts from these and
 * adds its controls' limits.
 */
export const CARD_CONTENT_CAPS = {
  title: 200,
  statusText: 500,
  notices: 5,
  notice: 500,
  fields: 30,
  fieldLabel: 100,
  fieldValue: 500,
  reason: 3000,
  decisions: 25,
  decisionText: 500,
  comment: 1000,
  footer: 500,
} as const;

/** How many notices, fields and decisions a platform's card shows at most. */
export interface CardCounts {
  notices: number;
  fields: number;
  decisions: number;
}

export interface ShownCard {
  /** The first `notices`. */
  notices: string[];
  /** The first `fields`. */
  fields: CardField[];
  /** The latest `decisions`, oldest first; see `shownComment` for their comments. */
  decisions: CardDecision[];
  /** The card's buttons, each action once, in the card's order. */
  actions: CardAction[];
  /** The comment box, present only when the card has a button to send it with. */
  commentInput?: ApprovalCard['commentInput'];
}

export function shownParts(card: ApprovalCard, counts: CardCounts): ShownCard {
  const actions = uniqueActions(card.actions);
  return {
    notices: card.notices.slice(0, counts.notices),
    fields: card.fields.slice(0, counts.fields),
    decisions: card.decisions.slice(-counts.decisions),
    actions,
    ...(card.commentInput && actions.length > 0 && { commentInput: card.commentInput }),
  };
}

/** A decision's comment, unless it is blank. */
export function shownComment(decision: CardDecision): string | undefined {
  return decision.comment !== undefined && decision.comment.trim() !== '' ? decision.comment : undefined;
}

/** Each known action once, in order: a card never shows two buttons that send the same verdict. */
export function uniqueActions(actions: readonly CardAction[]): CardAction[] {
  const seen = new Set<CardActionId>();
  return actions.filter((action) => {
    if (!isCardActionId(action.id) || seen.has(action.id)) return false;
    seen.add(action.id);
    return true;
  });
}

/** The comment box's length limit as a whole number from 1 to the platform's `cap` (`cap` when not a number). */
export function commentMaxLength(maxLength: number, cap: number): number {
  return Number.isFinite(maxLength) ? Math.min(Math.max(1, Math.floor(maxLength)), cap) : cap;
}
