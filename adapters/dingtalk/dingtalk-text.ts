import { renderPlainText } from '../shared/plain-text';

// Text for DingTalk. Cards and robot messages show markdown (headings, emphasis, links, images, lists, quotes,
// and a few HTML tags such as <font>). Everything shown is escaped so it reads as the characters typed:
// - characters that make markup are written as numeric character references (`&#42;` for `*`): markdown shows a
//   reference as the character itself and never reads it as syntax, and so does an HTML-minded renderer. Always:
//   \ ` * _ [ ] < > & | ~ (emphasis, code, links and images, HTML tags and entities, tables, strike-through);
//   at the start of a line also # + - = and "1." / "1)" (headings, lists, rules). Everything else, such as the
//   hyphen in JIT-7K3Q2, stays as it is, so the text reads the same in any renderer;
// - "@" is followed by an invisible word joiner, so "@all" or "@张三" typed in a reason never looks like, or turns
//   into, a mention (DingTalk only notifies users named in atUserIds, which jitbot never fills from text);
// - controls and direction overrides are removed (adapters/shared/plain-text).

const ALWAYS = /[\\`*_[\]<>&|~]/g;
const LINE_START = /^(\s*)([#+\-=]|\d+[.)])/gm;
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
    .replace(ALWAYS, reference)
    .replace(
      LINE_START,
      (_match, indent: string, marker: string) => indent + reference(marker.charAt(0)) + marker.slice(1),
    )
    .replace(/@/g, `@${WORD_JOINER}`)
    .replace(/\n/g, '  \n');
}

function reference(char: string): string {
  return `&#${char.codePointAt(0)};`;
}
