import type { ApprovalCard } from '../../src/core/card';
import { ADAPTIVE_CARD_CONTENT_TYPE, renderAdaptiveCard, type AdaptiveCard } from './adaptive-card';
import { fitText } from './teams-text';

// The answer to an `adaptiveCard/action` invoke, sent as the HTTP response within Teams' 5 seconds. Only the
// clicker sees it: either the redrawn card (their view of the card is replaced), or a short message Teams shows
// next to the card, which is left as it was. An error never replaces the card. Everyone else sees the new card
// through an update of the posted message.

export const ACTIVITY_MESSAGE_TYPE = 'application/vnd.microsoft.activity.message';
const MAX_MESSAGE = 1000;

export type AdaptiveCardInvokeResponse =
  | { statusCode: 200; type: typeof ADAPTIVE_CARD_CONTENT_TYPE; value: AdaptiveCard }
  | { statusCode: 200; type: typeof ACTIVITY_MESSAGE_TYPE; value: string };

export function cardResponse(card: ApprovalCard): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value: renderAdaptiveCard(card) };
}

/** A message for the clicker alone (late, self, non-approver or wrong-channel click; or "done"). Shown as plain text. */
export function messageResponse(text: string): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: ACTIVITY_MESSAGE_TYPE, value: fitText(text, MAX_MESSAGE) };
}
