import type { ApprovalCard, CardAction, CardActionId, CardDecision, CardField } from '../../src/core/card';
import { commentMaxLength, shownComment, shownParts } from '../shared/card-parts';
import { boldLabel, fitText, plainText, safeMrkdwn, type MrkdwnObject, type PlainTextObject } from './slack-text';

// The Slack renderer: the neutral ApprovalCard as a Block Kit message. A pure function; Slack's limits are
// enforced here (longer texts end in "…"), and whatever a person typed is shown as plain text, never parsed.

/** Slack's Block Kit limits for what this card uses (characters, counts). */
export const BLOCK_KIT_LIMITS = {
  blocksPerMessage: 50,
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  fieldsPerSection: 10,
  contextText: 2000,
  buttonText: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  inputLabel: 2000,
  inputPlaceholder: 150,
  inputMaxLength: 3000,
  /** The message's top-level `text`: Slack allows far more; notifications show only the start. */
  fallbackText: 3000,
} as const;

/** What this card shows at most, so the message always stays within 50 blocks. */
export const CARD_CAPS = {
  notices: 5,
  fields: 30,
  decisions: 25,
  decisionText: 500,
  comment: 1000,
  reason: 3000,
} as const;

/** block_id / action_id names the inbound side relies on. */
export const CARD_IDS = {
  actionsBlock: 'jit_actions',
  commentBlock: 'jit_comment',
  commentAction: 'comment',
} as const;

export interface HeaderBlock {
  type: 'header';
  text: PlainTextObject;
}
export interface SectionBlock {
  type: 'section';
  text?: PlainTextObject | MrkdwnObject;
  fields?: (PlainTextObject | MrkdwnObject)[];
}
export interface ContextBlock {
  type: 'context';
  elements: (PlainTextObject | MrkdwnObject)[];
}
export interface RichTextElement {
  type: 'text';
  text: string;
  style?: { bold?: boolean; italic?: boolean };
}
export interface RichTextBlock {
  type: 'rich_text';
  elements: { type: 'rich_text_section'; elements: RichTextElement[] }[];
}
export interface InputBlock {
  type: 'input';
  block_id: string;
  optional: true;
  dispatch_action: false;
  label: PlainTextObject;
  element: {
    type: 'plain_text_input';
    action_id: string;
    multiline: true;
    max_length: number;
    placeholder: PlainTextObject;
  };
}
export interface ConfirmDialog {
  title: PlainTextObject;
  text: PlainTextObject;
  confirm: PlainTextObject;
  deny: PlainTextObject;
  style?: 'primary' | 'danger';
}
export interface ButtonElement {
  type: 'button';
  action_id: CardActionId;
  text: PlainTextObject;
  /** Only the request id: the core looks everything else up. */
  value: string;
  style?: 'primary' | 'danger';
  confirm?: ConfirmDialog;
}
export interface ActionsBlock {
  type: 'actions';
  block_id: string;
  elements: ButtonElement[];
}

export type Block = HeaderBlock | SectionBlock | ContextBlock | RichTextBlock | InputBlock | ActionsBlock;

export interface BlockKitMessage {
  /** Fallback for notifications and screen readers (mrkdwn, escaped). */
  text: string;
  blocks: Block[];
}

export function renderBlockKit(card: ApprovalCard): BlockKitMessage {
  const L = BLOCK_KIT_LIMITS;
  const shown = shownParts(card, CARD_CAPS);
  const blocks: Block[] = [
    { type: 'header', text: plainText(card.title, L.headerText) },
    { type: 'section', text: plainText(card.statusText, L.sectionText) },
  ];
  if (card.progress !== undefined)
    blocks.push({ type: 'context', elements: [plainText(card.progress, L.contextText)] });
  for (const notice of shown.notices) {
    blocks.push({ type: 'section', text: plainText(`⚠️ ${notice}`, L.sectionText) });
  }
  blocks.push(...fieldSections(shown.fields));
  blocks.push(reasonBlock(card));
  if (shown.decisions.length > 0) blocks.push(decisionsBlock(shown.decisions));
  if (shown.commentInput) blocks.push(commentInput(shown.commentInput));
  const buttons = shown.actions.map((action) => button(action, card.requestId));
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: CARD_IDS.actionsBlock, elements: buttons });
  if (card.footer !== undefined) blocks.push({ type: 'context', elements: [plainText(card.footer, L.contextText)] });

  return {
    text: safeMrkdwn(`${card.title} — ${card.statusText}`, L.fallbackText),
    blocks: blocks.slice(0, L.blocksPerMessage),
  };
}

/** Label and value side by side: the label (ours) in bold, the value (anyone's) as plain text. */
function fieldSections(fields: readonly CardField[]): SectionBlock[] {
  const pairsPerSection = BLOCK_KIT_LIMITS.fieldsPerSection / 2;
  const sections: SectionBlock[] = [];
  for (let i = 0; i < fields.length; i += pairsPerSection) {
    sections.push({
      type: 'section',
      fields: fields
        .slice(i, i + pairsPerSection)
        .flatMap((field) => [
          boldLabel(field.label, BLOCK_KIT_LIMITS.fieldText),
          plainText(field.value, BLOCK_KIT_LIMITS.fieldText),
        ]),
    });
  }
  return sections;
}

// Rich text elements are literal text with a style: nothing in them is read as a mention, link or markup.
function reasonBlock(card: ApprovalCard): RichTextBlock {
  return {
    type: 'rich_text',
    elements: [
      {
        type: 'rich_text_section',
        elements: [
          { type: 'text', text: fitText(card.reasonLabel, 100), style: { bold: true } },
          { type: 'text', text: `\n${fitText(card.reason, CARD_CAPS.reason)}` },
        ],
      },
    ],
  };
}

function decisionsBlock(decisions: readonly CardDecision[]): RichTextBlock {
  return {
    type: 'rich_text',
    elements: decisions.map((decision, index) => {
      const elements: RichTextElement[] = [
        { type: 'text', text: (index > 0 ? '\n' : '') + fitText(decision.text, CARD_CAPS.decisionText) },
      ];
      const comment = shownComment(decision);
      if (comment !== undefined)
        elements.push({ type: 'text', text: `\n“${fitText(comment, CARD_CAPS.comment)}”`, style: { italic: true } });
      return { type: 'rich_text_section', elements };
    }),
  };
}

function commentInput(input: NonNullable<ApprovalCard['commentInput']>): InputBlock {
  return {
    type: 'input',
    block_id: CARD_IDS.commentBlock,
    optional: true,
    dispatch_action: false,
    label: plainText(input.label, BLOCK_KIT_LIMITS.inputLabel),
    element: {
      type: 'plain_text_input',
      action_id: CARD_IDS.commentAction,
      multiline: true,
      max_length: commentMaxLength(input.maxLength, BLOCK_KIT_LIMITS.inputMaxLength),
      placeholder: plainText(input.placeholder, BLOCK_KIT_LIMITS.inputPlaceholder),
    },
  };
}

function button(action: CardAction, requestId: string): ButtonElement {
  const L = BLOCK_KIT_LIMITS;
  const style = action.style === 'default' ? undefined : action.style;
  return {
    type: 'button',
    action_id: action.id,
    text: plainText(action.label, L.buttonText),
    value: requestId,
    ...(style && { style }),
    ...(action.confirm && {
      confirm: {
        title: plainText(action.confirm.title, L.confirmTitle),
        text: plainText(action.confirm.text, L.confirmText),
        confirm: plainText(action.confirm.confirm, L.confirmButton),
        deny: plainText(action.confirm.deny, L.confirmButton),
        ...(style && { style }),
      },
    }),
  };
}
