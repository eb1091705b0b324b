import { renderPlainText } from '../shared/plain-text';

// Text for Feishu/Lark. Cards only ever use `plain_text` text objects, which Feishu shows as typed: no markdown,
// links or `<at>` mentions. As a second lock (in case a client ever parses more than documented), anything that
// looks like the start of a tag or an @all gets an invisible word joiner, so it can never form `<at id=all>`.

/** Shown when a text would otherwise be empty: Feishu rejects empty text objects. */
const EMPTY = '—';
const WORD_JOINER = '\u2060';

/** `<` before a letter, `/` or `!` (a tag, a closing tag, a comment) and `@` before all/所有人/everyone/here. */
const TAG_START = /<(?=[A-Za-z/!])/g;
const SPECIAL_MENTION = /@(?=all\b|everyone\b|here\b|所有人)/gi;

export function inert(text: string): string {
  return text.replace(TAG_START, `<${WORD_JOINER}`).replace(SPECIAL_MENTION, `@${WORD_JOINER}`);
}

/** Cleaned (controls and direction overrides removed), capped to `max` characters, inert, never empty. */
export function fitText(text: string, max: number): string {
  const cleaned = renderPlainText(text, Number.POSITIVE_INFINITY).trim();
  // Cap first: the joiners added afterwards are invisible and do not count towards what people see.
  return inert(renderPlainText(cleaned === '' ? EMPTY : cleaned, max));
}

export interface PlainText {
  tag: 'plain_text';
  content: string;
}

export function plainText(text: string, max: number): PlainText {
  return { tag: 'plain_text', content: fitText(text, max) };
}
