import { renderPlainText } from '../shared/plain-text';

// Text for DingTalk. Cards and robot messages show markdown (headings, emphasis, links, images, lists, quotes,
// and a few HTML tags such as <font>). Everything shown is escaped so it reads as the characters typed:
// - ASCII markdown punctuation gets a backslash (markdown's own escape);
// - < and > become their full-width forms ＜ ＞, so no HTML tag can be written, whether or not the renderer
//   honours backslashes before them;
// - "@" is followed by an invisible word joiner, so "@all" or "@张三" typed in a reason never looks like, or turns
//   into, a mention (DingTalk only notifies users named in atUserIds, which jitbot never fills from text);
// - controls and direction overrides are removed (adapters/shared/plain-text).

/** Original Markdown's escapable characters plus | and ~ (tables, strike-through); nothing else, so no stray "\" shows. */
const MARKDOWN_PUNCTUATION = /[\\`*_{}[\]()#+\-.!|~]/g;
const WORD_JOINER = '\u2060';

/** Shown when a text would otherwise be empty. */
const EMPTY = '—';

/** Cleaned, capped (code points), never empty. Not escaped: for plain-text places (summaries, notifications). */
export function plainText(text: string, max: number): string {
  const cleaned = renderPlainText(text, max).trim();
  return cleaned === '' ? EMPTY : cleaned;
}

/** `text` as literal characters inside markdown: capped first, then escaped, line breaks kept as hard breaks. */
export function escapeMarkdown(text: string, max: number): string {
  return plainText(text, max)
    .replace(MARKDOWN_PUNCTUATION, (char) => `\\${char}`)
    .replace(/</g, '＜')
    .replace(/>/g, '＞')
    .replace(/@/g, `@${WORD_JOINER}`)
    .replace(/\n/g, '  \n');
}
