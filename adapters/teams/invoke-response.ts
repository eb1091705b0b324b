import type { ApprovalCard } from '../../src/core/card';
import { ADAPTIVE_CARD_CONTENT_TYPE, renderAdaptiveCard, type AdaptiveCard } from './adaptive-card';
import { fitText, markdownText } from './teams-text';

// The answer to an `adaptiveCard/action` invoke, sent as the HTTP response within Teams' 5 seconds. Only the
// clicker sees it: either the redrawn card (their view of the card is replaced), with the core's answer on top of
// it ("Recorded your approval…"), or, for a refusal, a short message Teams shows next to the card, which is left
// as it was. An error never replaces the card. Everyone else sees the new card through an update of the posted
// message, which soon replaces the clicker's view too.

/** The id of the TextBlock that carries the answer for the clicker on their redrawn card. */
export const CLICK_ANSWER_ID = 'jitbot-answer';

export const ACTIVITY_MESSAGE_TYPE = 'application/vnd.microsoft.activity.message';
const MAX_MESSAGE = 1000;

export type AdaptiveCardInvokeResponse =
  | { statusCode: 200; type: typeof ADAPTIVE_CARD_CONTENT_TYPE; value: AdaptiveCard }
  | { statusCode: 200; type: typeof ACTIVITY_MESSAGE_TYPE; value: string };

export function cardResponse(card: ApprovalCard, answer?: string): AdaptiveCardInvokeResponse {
  const rendered = renderAdaptiveCard(card);
  if (answer) {
    rendered.body.unshift({
      type: 'TextBlock',
      id: CLICK_ANSWER_ID,
      text: markdownText(answer, MAX_MESSAGE),
      wrap: true,
      color: 'Accent',
      weight: 'Bolder',
    });
  }
  return { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value: rendered };
}

/** A message for the clicker alone (late, self, non-approver or wrong-channel click; or "done"). Shown as plain text. */
export function messageResponse(text: string): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: ACTIVITY_MESSAGE_TYPE, value: fitText(text, MAX_MESSAGE) };
}
