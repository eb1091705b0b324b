import type { ApprovalCard, CardAction, CardActionId } from '../../src/core/card';
import { CARD_CONTENT_CAPS, commentMaxLength, shownComment, shownParts } from '../shared/card-parts';
import { markdownText, runText } from './teams-text';

// The Teams renderer: the neutral ApprovalCard as an Adaptive Card 1.5 (the version Teams needs for Universal
// Actions). A pure function. Buttons are Action.Execute: the verb is the verdict and the data only the request
// id, so a click reaches the bot as an `adaptiveCard/action` invoke with the comment box's value merged in.
// What people typed (reason, comments, names, tags) is shown in TextRuns, which Teams does not read as markdown;
// the few values in markdown places are escaped (see teams-text.ts).

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const ADAPTIVE_CARD_VERSION = '1.5';
/** The id of the comment box: its value arrives in the action's data under this name. */
export const COMMENT_INPUT_ID = 'comment';

/** What this card shows at most; Teams refuses messages much over ~28 KB of card. */
export const CARD_CAPS = {
  ...CARD_CONTENT_CAPS,
  buttonLabel: 50,
  inputLabel: 200,
  inputPlaceholder: 150,
  inputMaxLength: 3000,
} as const;

export interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: 'Bolder';
  italic?: true;
  isSubtle?: true;
}
export interface RichTextBlock {
  type: 'RichTextBlock';
  inlines: TextRun[];
  spacing?: 'Small' | 'Medium';
}
export interface TextBlock {
  type: 'TextBlock';
  id?: string;
  text: string;
  wrap: true;
  size?: 'Medium' | 'Large';
  weight?: 'Bolder';
  color?: 'Warning' | 'Good' | 'Attention' | 'Accent';
  isSubtle?: true;
  style?: 'heading';
}
export interface FactSet {
  type: 'FactSet';
  facts: { title: string; value: string }[];
}
export interface TextInput {
  type: 'Input.Text';
  id: typeof COMMENT_INPUT_ID;
  label: string;
  placeholder: string;
  isMultiline: true;
  maxLength: number;
}
export interface ExecuteAction {
  type: 'Action.Execute';
  verb: CardActionId;
  title: string;
  /** Only the request id: the core looks everything else up. */
  data: { requestId: string };
  style?: 'positive' | 'destructive';
}
export type CardElement = TextBlock | RichTextBlock | FactSet | TextInput;

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  version: typeof ADAPTIVE_CARD_VERSION;
  /** Read by screen readers and shown in notifications. */
  fallbackText: string;
  body: CardElement[];
  actions?: ExecuteAction[];
  msteams: { width: 'Full' };
}

export function renderAdaptiveCard(card: ApprovalCard): AdaptiveCard {
  const C = CARD_CAPS;
  const shown = shownParts(card, C);
  const body: CardElement[] = [
    {
      type: 'TextBlock',
      text: markdownText(card.title, C.title),
      wrap: true,
      size: 'Medium',
      weight: 'Bolder',
      style: 'heading',
    },
    { type: 'TextBlock', text: markdownText(card.statusText, C.statusText), wrap: true, ...statusColour(card) },
  ];
  if (card.progress !== undefined)
    body.push({ type: 'TextBlock', text: markdownText(card.progress, C.statusText), wrap: true, isSubtle: true });
  for (const notice of shown.notices) {
    body.push({ type: 'TextBlock', text: markdownText(`⚠️ ${notice}`, C.notice), wrap: true, color: 'Warning' });
  }
  if (shown.fields.length > 0) {
    body.push({
      type: 'FactSet',
      facts: shown.fields.map((field) => ({
        title: markdownText(field.label, C.fieldLabel),
        value: markdownText(field.value, C.fieldValue),
      })),
    });
  }
  body.push({
    type: 'RichTextBlock',
    inlines: [
      { type: 'TextRun', text: `${runText(card.reasonLabel, C.fieldLabel)}\n`, weight: 'Bolder' },
      { type: 'TextRun', text: runText(card.reason, C.reason) },
    ],
  });
  for (const decision of shown.decisions) {
    const inlines: TextRun[] = [{ type: 'TextRun', text: runText(decision.text, C.decisionText) }];
    const comment = shownComment(decision);
    if (comment !== undefined)
      inlines.push({ type: 'TextRun', text: `\n“${runText(comment, C.comment)}”`, italic: true });
    body.push({ type: 'RichTextBlock', inlines, spacing: 'Small' });
  }

  const actions = shown.actions.map((action) => executeAction(action, card.requestId));
  if (shown.commentInput) {
    body.push({
      type: 'Input.Text',
      id: COMMENT_INPUT_ID,
      label: runText(shown.commentInput.label, C.inputLabel),
      placeholder: runText(shown.commentInput.placeholder, C.inputPlaceholder),
      isMultiline: true,
      maxLength: commentMaxLength(shown.commentInput.maxLength, C.inputMaxLength),
    });
  }
  if (card.footer !== undefined)
    body.push({ type: 'TextBlock', text: markdownText(card.footer, C.footer), wrap: true, isSubtle: true });

  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    fallbackText: runText(`${card.title} — ${card.statusText}`, C.title + C.statusText),
    body,
    ...(actions.length > 0 && { actions }),
    msteams: { width: 'Full' },
  };
}

/** The card as a message attachment. */
export function cardAttachment(card: ApprovalCard): {
  contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE;
  content: AdaptiveCard;
} {
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: renderAdaptiveCard(card) };
}

function statusColour(card: ApprovalCard): Pick<TextBlock, 'color'> {
  switch (card.status) {
    case 'approved':
    case 'active':
      return { color: 'Good' };
    case 'rejected':
    case 'failed':
    case 'revoked':
      return { color: 'Attention' };
    default:
      return {};
  }
}

// Teams shows no confirmation dialog for Action.Execute; the core refuses late and repeated clicks instead.
function executeAction(action: CardAction, requestId: string): ExecuteAction {
  const style = action.style === 'primary' ? 'positive' : action.style === 'danger' ? 'destructive' : undefined;
  return {
    type: 'Action.Execute',
    verb: action.id,
    title: runText(action.label, CARD_CAPS.buttonLabel),
    data: { requestId },
    ...(style && { style }),
  };
}
