import type { Platform, RequestStatus, UserRef } from './model';

// One neutral approval card. Every chat adapter renders exactly this; none decides what it contains.
// All strings are already localised; adapters only escape and lay them out.

/** The buttons a card can carry. Platforms send the id back on a click, with the request id as the value. */
export const CARD_ACTION_IDS = ['approve', 'reject', 'revoke'] as const;
export type CardActionId = (typeof CARD_ACTION_IDS)[number];

export function isCardActionId(value: unknown): value is CardActionId {
  return typeof value === 'string' && (CARD_ACTION_IDS as readonly string[]).includes(value);
}

export interface CardAction {
  id: CardActionId;
  label: string;
  style: 'primary' | 'danger' | 'default';
  /** A confirmation dialog the platform should show before sending the click, where it can. */
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export interface CardField {
  label: string;
  value: string;
}

export interface CardDecision {
  by: UserRef;
  verdict: 'approve' | 'reject';
  /** Localised one-line summary, e.g. "✅ Alice approved (Level 1) at 14:03 — looks fine". */
  text: string;
  comment?: string;
  at: number;
}

export interface ApprovalCard {
  requestId: string;
  version: number;
  status: RequestStatus;
  /** e.g. "JIT-7K3Q2 · web-1 (i-0abc…)" */
  title: string;
  /** Localised status line, e.g. "⏳ Waiting for Level 1 of 2: ops-approvers". */
  statusText: string;
  requester: UserRef;
  fields: CardField[];
  /** The requester's reason as typed: adapters must render it as plain text (no mentions, links or markup). */
  reason: string;
  reasonLabel: string;
  /** e.g. "Level 1 of 2 · 1 of 2 approvals"; absent once decided. */
  progress?: string;
  decisions: CardDecision[];
  actions: CardAction[];
  /** Present while a decision can still be made: an inline comment box. */
  commentInput?: { label: string; placeholder: string; maxLength: number };
  /** Warnings shown prominently: dry run, node not registered with SSM, failure reason. */
  notices: string[];
  footer?: string;
  /** Platform the card is for: only used to pick the right mention syntax in text that names users. */
  platform?: Platform;
}
