import type { ApprovalCard, CardAction, CardActionId } from '../../src/core/card';
import type { RequestStatus } from '../../src/core/model';
import { CARD_CONTENT_CAPS, commentMaxLength, shownComment, shownParts, type ShownCard } from '../shared/card-parts';
import { fitText, plainText, type PlainText } from './feishu-text';

// The Feishu/Lark renderer: the neutral ApprovalCard as a card in JSON 2.0. A pure function. Every text is a
// `plain_text` object (the card has no markdown at all), so nothing a person typed becomes a mention, link or
// markup. `update_multi: true` makes the card shared, so PATCHing the message redraws it for everyone.

/** What this card shows at most; the whole card stays far below Feishu's 30 KB. */
export const CARD_CAPS = {
  ...CARD_CONTENT_CAPS,
  title: 150,
  progress: 300,
  reasonLabel: 100,
  buttonText: 40,
  confirmTitle: 100,
  confirmText: 300,
  inputLabel: 100,
  inputPlaceholder: 100,
  inputMaxLength: 1000,
} as const;

/** Names the inbound side relies on: the form, its comment input, and the buttons (the verdict). */
export const CARD_NAMES = {
  form: 'jit_decision',
  comment: 'comment',
} as const;

/** What a button sends back in `action.value`: the verdict and the request id, nothing else. */
export interface ButtonValue {
  action: CardActionId;
  requestId: string;
}

/** Verdicts that are decided with the comment box; Revoke needs no comment. */
const FORM_ACTIONS: readonly CardActionId[] = ['approve', 'reject'];

export type HeaderTemplate = 'orange' | 'blue' | 'green' | 'yellow' | 'grey' | 'red';

const HEADER_COLOURS: Record<RequestStatus, HeaderTemplate> = {
  pending: 'orange',
  approved: 'blue',
  active: 'green',
  /** Revoked, but IAM has not yet accepted the removal. */
  revoking: 'yellow',
  ended: 'grey',
  revoked: 'grey',
  rejected: 'red',
  cancelled: 'grey',
  timed_out: 'grey',
  failed: 'red',
};

export interface TextElement {
  tag: 'div';
  text: PlainText & { text_size?: 'normal' | 'notation'; text_color?: 'default' | 'grey' | 'orange' };
}
export interface FieldsElement {
  tag: 'div';
  fields: { is_short: true; text: PlainText }[];
}
export interface PersonElement {
  tag: 'person';
  user_id: string;
  size: 'small';
  show_avatar: true;
  show_name: true;
  style: 'capsule';
}
export interface ButtonElement {
  tag: 'button';
  name: CardActionId;
  text: PlainText;
  type: 'primary_filled' | 'danger' | 'default';
  behaviors: [{ type: 'callback'; value: ButtonValue }];
  form_action_type?: 'submit';
  confirm?: { title: PlainText; text: PlainText };
}
export interface InputElement {
  tag: 'input';
  name: typeof CARD_NAMES.comment;
  required: false;
  max_length: number;
  label: PlainText;
  label_position: 'top';
  placeholder: PlainText;
}
export interface ColumnSetElement {
  tag: 'column_set';
  horizontal_spacing: '8px';
  columns: { tag: 'column'; width: 'auto'; elements: ButtonElement[] }[];
}
export interface FormElement {
  tag: 'form';
  name: typeof CARD_NAMES.form;
  elements: (InputElement | ColumnSetElement)[];
}
export type CardElement = TextElement | FieldsElement | PersonElement | FormElement | ColumnSetElement;

export interface FeishuCard {
  schema: '2.0';
  config: { update_multi: true; summary: { content: string } };
  header: { title: PlainText; subtitle: PlainText; template: HeaderTemplate };
  body: { elements: CardElement[] };
}

/** Feishu refuses cards over 30 KB of JSON; this leaves room for the request's envelope. */
export const MAX_CARD_BYTES = 28 * 1024;
/** Long texts shrink by these factors, in turn, until the card fits; buttons and the form always stay. */
const SHRINK_STEPS = [1, 0.5, 0.25, 0.1, 0.04];

type Caps = { -readonly [K in keyof typeof CARD_CAPS]: number };

export function renderFeishuCard(card: ApprovalCard): FeishuCard {
  let rendered: FeishuCard | undefined;
  for (const factor of SHRINK_STEPS) {
    rendered = renderWith(card, shrunk(factor));
    if (Buffer.byteLength(JSON.stringify(rendered)) <= MAX_CARD_BYTES) return rendered;
  }
  return rendered!;
}

function shrunk(factor: number): Caps {
  const caps: Caps = { ...CARD_CAPS };
  for (const key of [
    'reason',
    'fieldValue',
    'decisionText',
    'comment',
    'notice',
    'footer',
    'statusText',
    'progress',
  ] as const) {
    caps[key] = Math.max(20, Math.floor(CARD_CAPS[key] * factor));
  }
  caps.decisions = Math.max(3, Math.floor(CARD_CAPS.decisions * factor));
  caps.fields = Math.max(8, Math.floor(CARD_CAPS.fields * factor));
  caps.notices = Math.max(1, Math.floor(CARD_CAPS.notices * factor));
  return caps;
}

function renderWith(card: ApprovalCard, C: Caps): FeishuCard {
  const shown = shownParts(card, C);
  const elements: CardElement[] = [];
  if (card.progress !== undefined) elements.push(text(card.progress, C.progress, { text_color: 'grey' }));
  for (const notice of shown.notices) elements.push(text(`⚠️ ${notice}`, C.notice, { text_color: 'orange' }));
  const requester = requesterElement(card);
  if (requester) elements.push(requester);
  if (shown.fields.length > 0) {
    elements.push({
      tag: 'div',
      fields: shown.fields.map((field) => ({
        is_short: true,
        text: {
          tag: 'plain_text',
          content: `${fitText(field.label, C.fieldLabel)}\n${fitText(field.value, C.fieldValue)}`,
        },
      })),
    });
  }
  elements.push(text(card.reasonLabel, C.reasonLabel, { text_color: 'grey' }));
  elements.push(text(card.reason, C.reason));
  for (const decision of shown.decisions) {
    const comment = shownComment(decision);
    const quoted = comment !== undefined ? `\n“${fitText(comment, C.comment)}”` : '';
    elements.push({
      tag: 'div',
      text: { tag: 'plain_text', content: fitText(decision.text, C.decisionText) + quoted },
    });
  }
  elements.push(...actionElements(shown, card.requestId));
  if (card.footer !== undefined)
    elements.push(text(card.footer, C.footer, { text_size: 'notation', text_color: 'grey' }));

  return {
    schema: '2.0',
    config: { update_multi: true, summary: { content: fitText(`${card.title} — ${card.statusText}`, C.title) } },
    header: {
      title: plainText(card.title, C.title),
      subtitle: plainText(card.statusText, C.statusText),
      template: HEADER_COLOURS[card.status],
    },
    body: { elements },
  };
}

function text(content: string, max: number, style: Omit<TextElement['text'], 'tag' | 'content'> = {}): TextElement {
  return { tag: 'div', text: { ...plainText(content, max), ...style } };
}

/**
 * The requester as a person component (name and avatar; a click opens their profile). Feishu user refs carry the
 * union_id, which the person component accepts, unlike `<at>` (open_id only, and open_id differs per app).
 */
function requesterElement(card: ApprovalCard): PersonElement | undefined {
  if (card.requester.platform !== 'feishu' || !/^[\w-]{1,128}$/.test(card.requester.userId)) return undefined;
  return {
    tag: 'person',
    user_id: card.requester.userId,
    size: 'small',
    show_avatar: true,
    show_name: true,
    style: 'capsule',
  };
}

/** Approve/Reject submit the form with the comment box; Revoke is a plain button. No buttons: nothing at all. */
function actionElements({ actions, commentInput: input }: ShownCard, requestId: string): CardElement[] {
  const formActions = input ? actions.filter((a) => FORM_ACTIONS.includes(a.id)) : [];
  const plainActions = actions.filter((a) => !formActions.includes(a));
  const elements: CardElement[] = [];
  if (formActions.length > 0 && input) {
    elements.push({
      tag: 'form',
      name: CARD_NAMES.form,
      elements: [
        {
          tag: 'input',
          name: CARD_NAMES.comment,
          required: false,
          max_length: commentMaxLength(input.maxLength, CARD_CAPS.inputMaxLength),
          label: plainText(input.label, CARD_CAPS.inputLabel),
          label_position: 'top',
          placeholder: plainText(input.placeholder, CARD_CAPS.inputPlaceholder),
        },
        buttonRow(formActions.map((action) => button(action, requestId, true))),
      ],
    });
  }
  if (plainActions.length > 0) elements.push(buttonRow(plainActions.map((action) => button(action, requestId, false))));
  return elements;
}

function buttonRow(buttons: ButtonElement[]): ColumnSetElement {
  return {
    tag: 'column_set',
    horizontal_spacing: '8px',
    columns: buttons.map((b) => ({ tag: 'column', width: 'auto', elements: [b] })),
  };
}

function button(action: CardAction, requestId: string, submitsForm: boolean): ButtonElement {
  const type = action.style === 'primary' ? 'primary_filled' : action.style === 'danger' ? 'danger' : 'default';
  return {
    tag: 'button',
    name: action.id,
    text: plainText(action.label, CARD_CAPS.buttonText),
    type,
    behaviors: [{ type: 'callback', value: { action: action.id, requestId } }],
    ...(submitsForm && { form_action_type: 'submit' as const }),
    ...(action.confirm && {
      confirm: {
        title: plainText(action.confirm.title, CARD_CAPS.confirmTitle),
        text: plainText(action.confirm.text, CARD_CAPS.confirmText),
      },
    }),
  };
}
