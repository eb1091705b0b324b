// The /jit command grammar. `text` is everything after `/jit`, exactly as the platform delivered it.
//
//   /jit <node> <reason…> [for <duration>]      also `--for <duration>`, `for:<duration>`, `--for=<duration>`
//   /jit list | help | status <id> | cancel <id> | revoke <id>
//   /jit admin map-channel <role> | admin unmap-channel | admin channels
//
// Decisions worth knowing:
// - Whitespace is anything JavaScript's \s matches (includes the full-width space U+3000, NBSP, line breaks).
// - Control characters are removed, not refused: C0/C1 controls other than tab/line breaks, and the bidi
//   embedding/override/isolate controls (U+202A–U+202E, U+2066–U+2069) that could make a reason display as
//   something other than what was typed. Ordinary right-to-left text needs none of them. Lone UTF-16
//   surrogates become U+FFFD. Tab, CR, LF, VT, FF and NEL count as whitespace.
// - Keywords (list, status, …, for) match case-insensitively and after NFKC, so full-width `ｌｉｓｔ` works.
//   A Name tag that equals a keyword, contains whitespace or starts with a quote must be quoted:
//   "…", “…”, ＂…＂ or 「…」. The text inside quotes is taken literally (trimmed, case kept).
// - An unquoted instance/managed-node id is lower-cased; a Name tag keeps its case.
// - A trailing `for X` is a duration only if X parses as one. Otherwise it is part of the reason
//   ("waiting for deploy"), unless X looks like a mistyped duration (starts with a digit: `2x`, `1.5h`, `90`),
//   which is refused. The flag forms (`--for X`, `for:X`) always mean a duration.
// - Help ignores anything after it. Every other command refuses unexpected extra words.
// - Values echoed back in errors are cut to 60 code points.

import { parseDuration } from './duration';
import type { MessageKey } from './i18n/catalog';
import { excerpt } from './labels';
import { normaliseRequestId } from './request-id';

export type Command =
  | { kind: 'request'; node: string; reason: string; durationMs?: number }
  | { kind: 'list' }
  | { kind: 'help' }
  | { kind: 'status' | 'cancel' | 'revoke'; requestId: string }
  | { kind: 'admin'; action: 'map-channel'; role: string }
  | { kind: 'admin'; action: 'unmap-channel' }
  | { kind: 'admin'; action: 'channels' };

export interface ParseError {
  key: MessageKey;
  params?: Record<string, string | number>;
}

export type ParseResult = { ok: true; command: Command } | { ok: false; error: ParseError };

/** Reason length limit, in Unicode code points. */
export const MAX_REASON_LENGTH = 256;
/** EC2 tag values are at most 256 characters. */
export const MAX_NODE_LENGTH = 256;

const EXCERPT_LENGTH = 60;
const KEYWORDS = ['list', 'help', 'status', 'cancel', 'revoke', 'admin'] as const;
type Keyword = (typeof KEYWORDS)[number];
const QUOTES: Record<string, string> = { '"': '"', '“': '”', '＂': '＂', '「': '」' };

const NODE_ID = /^(?:i-(?:[0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$/i;
/** Slack-style markup such as <@U123>, <!channel> or <https://…>: a mention or link, never a node. */
const CHAT_MARKUP = /^<.*>$/su;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NEXT_LINE = /\u0085/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this regex's job.
const REMOVED_CONTROLS = /[\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F\u202A-\u202E\u2066-\u2069]/g;
const INLINE_DURATION = /^(--)?for[:=](.+)$/is;
const DURATION_KEYWORD = /^(--)?for$/i;
const ATTEMPTED_DURATION = /^\d[\p{L}\p{N}.,:]*$/u;

/** An EC2 instance id (i- + 8 or 17 hex) or a managed node id (mi- + 17 hex), any case. */
export function isNodeId(text: string): boolean {
  return NODE_ID.test(text);
}

/** How to type `node` so parseCommand reads it back unchanged: quoted only when it has to be. */
export function formatNodeArgument(node: string): string {
  const needsQuotes =
    node === '' ||
    /\s/.test(node) ||
    keywordOf(node) !== undefined ||
    Object.hasOwn(QUOTES, node.charAt(0)) ||
    CHAT_MARKUP.test(node);
  if (!needsQuotes) return node;
  for (const [open, close] of Object.entries(QUOTES)) {
    if (!node.includes(close)) return open + node + close;
  }
  return `"${node}"`;
}

export function parseCommand(text: string): ParseResult {
  const input = removeControlCharacters(text);
  const first = readNodeArgument(input);
  if (first === undefined) return failure('parse.empty');
  if ('error' in first) return { ok: false, error: first.error };
  if (!first.quoted) {
    const keyword = keywordOf(first.value);
    if (keyword) return parseKeywordCommand(keyword, words(first.rest));
  }
  return parseRequest(first.value, first.quoted, words(first.rest));
}

function parseKeywordCommand(keyword: Keyword, args: string[]): ParseResult {
  switch (keyword) {
    case 'help':
      return success({ kind: 'help' });
    case 'list':
      return args.length > 0 ? extraArgs('list', args) : success({ kind: 'list' });
    case 'status':
    case 'cancel':
    case 'revoke':
      return parseRequestIdCommand(keyword, args);
    case 'admin':
      return parseAdminCommand(args);
  }
}

function parseRequestIdCommand(kind: 'status' | 'cancel' | 'revoke', args: string[]): ParseResult {
  const [typed, ...extra] = args;
  if (typed === undefined) return failure('parse.missing_id', { command: kind });
  const requestId = normaliseRequestId(typed);
  if (requestId === undefined) return failure('parse.bad_id', { value: excerpt(typed, EXCERPT_LENGTH) });
  if (extra.length > 0) return extraArgs(kind, extra);
  return success({ kind, requestId });
}

function parseAdminCommand(args: string[]): ParseResult {
  const [typedAction = '', ...rest] = args;
  const action = fold(typedAction);
  switch (action) {
    case 'map-channel': {
      const [role, ...extra] = rest;
      if (role === undefined) return failure('parse.missing_role');
      if (extra.length > 0) return extraArgs('admin map-channel', extra);
      return success({ kind: 'admin', action: 'map-channel', role });
    }
    case 'unmap-channel':
    case 'channels':
      return rest.length > 0 ? extraArgs(`admin ${action}`, rest) : success({ kind: 'admin', action });
    case '':
      return failure('parse.missing_admin');
    default:
      return failure('parse.unknown_admin', { value: excerpt(typedAction, EXCERPT_LENGTH) });
  }
}

function parseRequest(rawNode: string, quoted: boolean, args: string[]): ParseResult {
  if ([...rawNode].length > MAX_NODE_LENGTH || (!quoted && CHAT_MARKUP.test(rawNode))) {
    return failure('parse.bad_node', { value: excerpt(rawNode, EXCERPT_LENGTH) });
  }
  const node = !quoted && isNodeId(rawNode) ? rawNode.toLowerCase() : rawNode;

  const split = splitDuration(args);
  if ('error' in split) return { ok: false, error: split.error };
  const reason = split.reasonWords.join(' ');
  if (reason === '') return failure('parse.missing_reason', { node: formatNodeArgument(node) });
  const length = [...reason].length;
  if (length > MAX_REASON_LENGTH) return failure('parse.reason_too_long', { length, max: MAX_REASON_LENGTH });

  const { durationMs } = split;
  return success(
    durationMs === undefined ? { kind: 'request', node, reason } : { kind: 'request', node, reason, durationMs },
  );
}

type DurationSplit = { reasonWords: string[]; durationMs?: number } | { error: ParseError };

/** Takes a trailing `for <duration>` (or a flag form) off the reason words. */
function splitDuration(args: string[]): DurationSplit {
  const last = args.at(-1);
  if (last === undefined) return { reasonWords: args };

  let value: string;
  let explicit: boolean;
  let reasonWords: string[];
  const inline = INLINE_DURATION.exec(last.normalize('NFKC'));
  const beforeLast = args.at(-2);
  if (inline) {
    value = inline[2]!;
    explicit = true;
    reasonWords = args.slice(0, -1);
  } else if (beforeLast !== undefined && DURATION_KEYWORD.test(beforeLast.normalize('NFKC'))) {
    value = last.normalize('NFKC');
    explicit = beforeLast.normalize('NFKC').startsWith('--');
    reasonWords = args.slice(0, -2);
  } else {
    return { reasonWords: args };
  }

  const durationMs = parseDuration(value);
  if (durationMs !== undefined) return { reasonWords, durationMs };
  if (explicit || ATTEMPTED_DURATION.test(value)) {
    return { error: { key: 'parse.bad_duration', params: { value: excerpt(value, EXCERPT_LENGTH) } } };
  }
  return { reasonWords: args };
}

type NodeArgument = { value: string; quoted: boolean; rest: string } | { error: ParseError };

/** The first argument, honouring quotes; undefined when the text is blank. */
function readNodeArgument(text: string): NodeArgument | undefined {
  const start = text.search(/\S/);
  if (start < 0) return undefined;
  const open = text.charAt(start);
  const close = Object.hasOwn(QUOTES, open) ? QUOTES[open] : undefined;

  if (close === undefined) {
    const token = /^\S+/.exec(text.slice(start))![0];
    return { value: token, quoted: false, rest: text.slice(start + token.length) };
  }

  const end = text.indexOf(close, start + 1);
  const badNode = (value: string): NodeArgument => ({
    error: { key: 'parse.bad_node', params: { value: excerpt(value, EXCERPT_LENGTH) } },
  });
  if (end < 0) return badNode(text.slice(start).trim());
  const rest = text.slice(end + 1);
  if (rest !== '' && !/^\s/.test(rest)) return badNode(text.slice(start, end + 1) + /^\S*/.exec(rest)![0]);
  const value = text.slice(start + 1, end).trim();
  if (value === '') return badNode(text.slice(start, end + 1));
  return { value, quoted: true, rest };
}

function removeControlCharacters(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD').replace(NEXT_LINE, ' ').replace(REMOVED_CONTROLS, '');
}

function keywordOf(token: string): Keyword | undefined {
  const folded = fold(token);
  return KEYWORDS.find((keyword) => keyword === folded);
}

function fold(token: string): string {
  return token.normalize('NFKC').toLowerCase();
}

function words(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === '' ? [] : trimmed.split(/\s+/);
}

function extraArgs(command: string, extra: string[]): ParseResult {
  return failure('parse.extra_args', { value: excerpt(extra.join(' '), EXCERPT_LENGTH), command });
}

function success(command: Command): ParseResult {
  return { ok: true, command };
}

function failure(key: MessageKey, params?: ParseError['params']): ParseResult {
  return { ok: false, error: params ? { key, params } : { key } };
}
