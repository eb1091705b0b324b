import { renderPlainText } from '../shared/plain-text';

// Text for Slack. Two kinds exist: `plain_text` objects (shown exactly as given: no mentions, links or
// formatting) and `mrkdwn` (where `<…>` makes mentions and links, `*_~\`` format, and & < > must be escaped).
// Everything a person typed goes into plain_text; only our own labels are ever mrkdwn, and escaped even so.

export interface PlainTextObject {
  type: 'plain_text';
  text: string;
  emoji: true;
}

export interface MrkdwnObject {
  type: 'mrkdwn';
  text: string;
  verbatim: true;
}

/** Shown when a text would otherwise be empty: Slack rejects empty text objects. */
const EMPTY = '—';
const ELLIPSIS = '…';

/** Removes control and direction-override characters (see the console renderer) without capping the length. */
function clean(text: string): string {
  return renderPlainText(text, Number.POSITIVE_INFINITY);
}

/**
 * Cuts `text` to at most `max` UTF-16 units, ending in "…" when cut. Slack's limits are in characters; counting
 * UTF-16 units is never more lenient than counting code points, and a surrogate pair is never split.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return cutAt(text, Math.max(0, max - ELLIPSIS.length)) + ELLIPSIS;
}

function cutAt(text: string, end: number): string {
  const last = text.charCodeAt(end - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
}

/** Cleaned, capped text that is never empty. */
export function fitText(text: string, max: number): string {
  const cleaned = clean(text).trim();
  return truncate(cleaned === '' ? EMPTY : cleaned, max);
}

export function plainText(text: string, max: number): PlainTextObject {
  return { type: 'plain_text', text: fitText(text, max), emoji: true };
}

/** The escapes Slack requires in any text it parses; they also turn `<!here>`, `<@U…>` and `<url|label>` inert. */
export function escapeControlCharacters(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A word joiner after the "@" keeps "@here", "@channel" and "@everyone" from ever being read as a mention
 * (Slack only does so with link_names, which jitbot never sets; this is the second lock). It is invisible.
 */
function breakSpecialMentions(text: string): string {
  return text.replace(/@(here|channel|everyone)\b/gi, '@\u2060$1');
}

/**
 * Text for places Slack parses as mrkdwn (message `text`, notification previews, mrkdwn objects): escaped and
 * capped so the escaped form fits `max`.
 */
export function safeMrkdwn(text: string, max: number): string {
  const escaped = escapeControlCharacters(breakSpecialMentions(clean(text).trim() || EMPTY));
  if (escaped.length <= max) return escaped;
  // Never cut inside an entity such as "&amp;": every "&" in escaped text starts one.
  let end = Math.max(0, max - ELLIPSIS.length);
  const entity = escaped.lastIndexOf('&', end - 1);
  if (entity !== -1 && escaped.indexOf(';', entity) >= end) end = entity;
  return cutAt(escaped, end) + ELLIPSIS;
}

/** A bold mrkdwn label, for our own (localised) labels only. */
export function boldLabel(label: string, max: number): MrkdwnObject {
  return { type: 'mrkdwn', text: `*${safeMrkdwn(label, max - 2)}*`, verbatim: true };
}
