import { renderPlainText } from '../shared/plain-text';

// Text for Teams. Two places take text from jitbot:
// - Adaptive Card TextBlocks and FactSets, where Teams reads a markdown subset (**bold**, _italic_, [links](…),
//   lists) and the {{DATE(…)}} / {{TIME(…)}} functions; TextRuns inside a RichTextBlock are shown as typed.
// - message text (thread replies, DMs), read as markdown and a little HTML.
// Whatever a person typed must stay those characters: no mention, link, markup or formatting function.

const ELLIPSIS = '…';
const EMPTY = '—';
const WORD_JOINER = '\u2060';

/** Cleaned of control and direction-override characters, capped to `max` code points, never empty. */
export function fitText(text: string, max: number): string {
  const cleaned = renderPlainText(text, Number.POSITIVE_INFINITY).trim();
  const codePoints = Array.from(cleaned === '' ? EMPTY : cleaned);
  if (codePoints.length <= max) return codePoints.join('');
  return codePoints.slice(0, Math.max(0, max - 1)).join('') + ELLIPSIS;
}

/**
 * An invisible word joiner inside `<at>` keeps Teams from reading a mention tag, and inside `{{` from reading a
 * date/time function. The same characters are shown.
 */
function defuse(text: string): string {
  return text.replace(/<(\/?)at\b/gi, `<$1${WORD_JOINER}at`).replace(/\{\{/g, `{${WORD_JOINER}{`);
}

/** Teams turns a bare URL in markdown text into a link; a word joiner after the scheme keeps it text. */
function unlink(text: string): string {
  return text.replace(/:\/\//g, `:${WORD_JOINER}//`).replace(/\bwww\./gi, (www) => `${www.slice(0, 3)}${WORD_JOINER}.`);
}

/**
 * The markdown Teams reads: emphasis (`*`, `_`), links (`[…](…)`), lists at a line's start (`- `, `1. `); in
 * messages also code (`` ` ``), strike-through (`~`) and headings (`#`). Only these get a backslash, so ordinary
 * text (`web-1 (i-0abc…)`) is sent as it is.
 */
const CARD_MARKDOWN = /[\\*_[\]]/g;
const MESSAGE_MARKDOWN = /[\\*_[\]`~]/g;
const LINE_START_MARKUP = /^([ \t]*)([-+]|\d{1,9}\.|#{1,6})(?=[ \t])/gm;

function escapeMarkdown(text: string, specials: RegExp): string {
  return text
    .replace(specials, '\\$&')
    .replace(LINE_START_MARKUP, (_m, indent: string, marker: string) => `${indent}\\${marker}`);
}

/** For TextRuns (no markdown): cleaned, capped and defused. */
export function runText(text: string, max: number): string {
  return defuse(fitText(text, max));
}

/** For TextBlocks and facts (markdown): cleaned, capped, defused and escaped. */
export function markdownText(text: string, max: number): string {
  return escapeMarkdown(unlink(defuse(fitText(text, max))), CARD_MARKDOWN);
}

/** For message text (markdown and some HTML): as `markdownText`, with `&`, `<` and `>` as entities. */
export function messageText(text: string, max: number): string {
  const escaped = escapeMarkdown(unlink(defuse(fitText(text, max))), MESSAGE_MARKDOWN);
  return escaped.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '\n\n');
}
