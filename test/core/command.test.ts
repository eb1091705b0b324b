import fc from 'fast-check';
import {
  MAX_REASON_LENGTH,
  formatNodeArgument,
  isNodeId,
  parseCommand,
  type Command,
  type ParseError,
} from '../../src/core/command';
import { isMessageKey, placeholderNames, t } from '../../src/core/i18n/catalog';
import { formatRequestId } from '../../src/core/request-id';

const HOUR = 3_600_000;
const MINUTE = 60_000;

function command(text: string): Command {
  const result = parseCommand(text);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got ${JSON.stringify(result.error)}`);
  return result.command;
}

function error(text: string): ParseError {
  const result = parseCommand(text);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(result.command)}`);
  return result.error;
}

describe('requests', () => {
  test.each<[string, Command]>([
    ['web-1 restart nginx', { kind: 'request', node: 'web-1', reason: 'restart nginx' }],
    ['web-1 restart nginx for 2h', { kind: 'request', node: 'web-1', reason: 'restart nginx', durationMs: 2 * HOUR }],
    ['web-1 restart nginx FOR 2H', { kind: 'request', node: 'web-1', reason: 'restart nginx', durationMs: 2 * HOUR }],
    [
      'web-1 restart nginx --for 90m',
      { kind: 'request', node: 'web-1', reason: 'restart nginx', durationMs: 90 * MINUTE },
    ],
    [
      'web-1 restart nginx for:1h30m',
      { kind: 'request', node: 'web-1', reason: 'restart nginx', durationMs: 90 * MINUTE },
    ],
    [
      'web-1 restart nginx --for=1d',
      { kind: 'request', node: 'web-1', reason: 'restart nginx', durationMs: 24 * HOUR },
    ],
    [
      'web-1 restart nginx ｆｏｒ ２ｈ',
      { kind: 'request', node: 'web-1', reason: 'restart nginx', durationMs: 2 * HOUR },
    ],
    ['web-1 fix for 2h for 30m', { kind: 'request', node: 'web-1', reason: 'fix for 2h', durationMs: 30 * MINUTE }],
    ['web-1 waiting for deploy', { kind: 'request', node: 'web-1', reason: 'waiting for deploy' }],
    ['web-1 waiting for', { kind: 'request', node: 'web-1', reason: 'waiting for' }],
    ['web-1 for the release notes', { kind: 'request', node: 'web-1', reason: 'for the release notes' }],
    ['web-1 rollback --for', { kind: 'request', node: 'web-1', reason: 'rollback --for' }],
    ['Web-Prod check logs', { kind: 'request', node: 'Web-Prod', reason: 'check logs' }],
    ['I-0123456789ABCDEF0 fix', { kind: 'request', node: 'i-0123456789abcdef0', reason: 'fix' }],
    ['i-0123ABCD fix', { kind: 'request', node: 'i-0123abcd', reason: 'fix' }],
    ['MI-0123456789abcdef0 fix', { kind: 'request', node: 'mi-0123456789abcdef0', reason: 'fix' }],
    ['i-0123ABC fix', { kind: 'request', node: 'i-0123ABC', reason: 'fix' }],
    ['"web prod 1" deploy hotfix', { kind: 'request', node: 'web prod 1', reason: 'deploy hotfix' }],
    ['“web prod 1” deploy hotfix', { kind: 'request', node: 'web prod 1', reason: 'deploy hotfix' }],
    ['＂web prod 1＂ deploy', { kind: 'request', node: 'web prod 1', reason: 'deploy' }],
    ['「ウェブ サーバー」 再起動', { kind: 'request', node: 'ウェブ サーバー', reason: '再起動' }],
    ['" web 1 " fix', { kind: 'request', node: 'web 1', reason: 'fix' }],
    ['"list" check disk', { kind: 'request', node: 'list', reason: 'check disk' }],
    ['"I-0123ABCD" fix', { kind: 'request', node: 'I-0123ABCD', reason: 'fix' }],
    ['web"1 fix', { kind: 'request', node: 'web"1', reason: 'fix' }],
    [
      'web-1\u3000重启\u3000nginx\u3000for\u30002h',
      { kind: 'request', node: 'web-1', reason: '重启 nginx', durationMs: 2 * HOUR },
    ],
    ['  web-1   fix \n\t nginx  ', { kind: 'request', node: 'web-1', reason: 'fix nginx' }],
    [
      'db-1 ディスク容量の調査 🔥 for 30m',
      { kind: 'request', node: 'db-1', reason: 'ディスク容量の調査 🔥', durationMs: 30 * MINUTE },
    ],
    ['web-1 بررسی لاگ‌ها', { kind: 'request', node: 'web-1', reason: 'بررسی لاگ‌ها' }],
    [
      'web-1 ping <!channel> @here *bold* `code` <https://x.io|x>',
      { kind: 'request', node: 'web-1', reason: 'ping <!channel> @here *bold* `code` <https://x.io|x>' },
    ],
    ['web-1 "quoted reason"', { kind: 'request', node: 'web-1', reason: '"quoted reason"' }],
    ['web-1 fix\u0000 ngi\u001bnx\u202E now\u0007', { kind: 'request', node: 'web-1', reason: 'fix nginx now' }],
    ['web-1 fix\u0085nginx', { kind: 'request', node: 'web-1', reason: 'fix nginx' }],
    ['web-1 bad \uD800 half', { kind: 'request', node: 'web-1', reason: 'bad \uFFFD half' }],
  ])('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual({ ok: true, command: expected });
  });

  test('a reason of exactly 256 code points is fine, even when each is two UTF-16 units', () => {
    expect(command(`web-1 ${'字'.repeat(256)}`)).toEqual({ kind: 'request', node: 'web-1', reason: '字'.repeat(256) });
    expect(command(`web-1 ${'👍'.repeat(256)}`)).toEqual({ kind: 'request', node: 'web-1', reason: '👍'.repeat(256) });
  });

  test('a node of 256 code points is fine', () => {
    expect(command(`${'n'.repeat(256)} fix`)).toMatchObject({ node: 'n'.repeat(256) });
  });
});

describe('other commands', () => {
  test.each<[string, Command]>([
    ['list', { kind: 'list' }],
    ['LIST', { kind: 'list' }],
    ['  List\u3000', { kind: 'list' }],
    ['ｌｉｓｔ', { kind: 'list' }],
    ['help', { kind: 'help' }],
    ['Help me please', { kind: 'help' }],
    ['status JIT-7K3Q2', { kind: 'status', requestId: 'JIT-7K3Q2' }],
    ['status jit-7k3q2', { kind: 'status', requestId: 'JIT-7K3Q2' }],
    ['Cancel 7k3q2', { kind: 'cancel', requestId: 'JIT-7K3Q2' }],
    ['REVOKE JIT-7K3QO', { kind: 'revoke', requestId: 'JIT-7K3Q0' }],
    ['admin map-channel ops-approvers', { kind: 'admin', action: 'map-channel', role: 'ops-approvers' }],
    ['ADMIN Map-Channel Ops-Approvers', { kind: 'admin', action: 'map-channel', role: 'Ops-Approvers' }],
    ['admin unmap-channel', { kind: 'admin', action: 'unmap-channel' }],
    ['admin channels', { kind: 'admin', action: 'channels' }],
  ])('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual({ ok: true, command: expected });
  });
});

describe('errors', () => {
  const long = 'x'.repeat(100);
  const longExcerpt = `${'x'.repeat(60)}…`;

  test.each<[string, ParseError]>([
    ['', { key: 'parse.empty' }],
    ['   ', { key: 'parse.empty' }],
    ['\u3000\n\t', { key: 'parse.empty' }],
    ['\u0000\u0007', { key: 'parse.empty' }],
    ['web-1', { key: 'parse.missing_reason', params: { node: 'web-1' } }],
    ['web-1   ', { key: 'parse.missing_reason', params: { node: 'web-1' } }],
    ['I-0123ABCD', { key: 'parse.missing_reason', params: { node: 'i-0123abcd' } }],
    ['"web prod 1"', { key: 'parse.missing_reason', params: { node: '"web prod 1"' } }],
    ['"list"', { key: 'parse.missing_reason', params: { node: '"list"' } }],
    ['web-1 for 2h', { key: 'parse.missing_reason', params: { node: 'web-1' } }],
    ['web-1 --for=2h', { key: 'parse.missing_reason', params: { node: 'web-1' } }],
    ['web-1 fix for 2x', { key: 'parse.bad_duration', params: { value: '2x' } }],
    ['web-1 fix for 0m', { key: 'parse.bad_duration', params: { value: '0m' } }],
    ['web-1 fix for 1.5h', { key: 'parse.bad_duration', params: { value: '1.5h' } }],
    ['web-1 fix for 90', { key: 'parse.bad_duration', params: { value: '90' } }],
    ['web-1 fix for 2小时', { key: 'parse.bad_duration', params: { value: '2小时' } }],
    ['web-1 fix --for soon', { key: 'parse.bad_duration', params: { value: 'soon' } }],
    ['web-1 fix for:later', { key: 'parse.bad_duration', params: { value: 'later' } }],
    [`web-1 ${'字'.repeat(257)}`, { key: 'parse.reason_too_long', params: { length: 257, max: 256 } }],
    [`web-1 ${'a '.repeat(200)}for 2h`, { key: 'parse.reason_too_long', params: { length: 399, max: 256 } }],
    ['status', { key: 'parse.missing_id', params: { command: 'status' } }],
    ['CANCEL', { key: 'parse.missing_id', params: { command: 'cancel' } }],
    ['revoke  ', { key: 'parse.missing_id', params: { command: 'revoke' } }],
    ['status nope', { key: 'parse.bad_id', params: { value: 'nope' } }],
    ['cancel JIT-7K3QU', { key: 'parse.bad_id', params: { value: 'JIT-7K3QU' } }],
    [`revoke ${long}`, { key: 'parse.bad_id', params: { value: longExcerpt } }],
    ['status JIT-7K3Q2 now', { key: 'parse.extra_args', params: { value: 'now', command: 'status' } }],
    ['list mine  please', { key: 'parse.extra_args', params: { value: 'mine please', command: 'list' } }],
    ['admin', { key: 'parse.missing_admin' }],
    ['admin frobnicate', { key: 'parse.unknown_admin', params: { value: 'frobnicate' } }],
    ['admin map-channel', { key: 'parse.missing_role' }],
    [
      'admin map-channel ops extra',
      { key: 'parse.extra_args', params: { value: 'extra', command: 'admin map-channel' } },
    ],
    ['admin unmap-channel now', { key: 'parse.extra_args', params: { value: 'now', command: 'admin unmap-channel' } }],
    ['admin channels all', { key: 'parse.extra_args', params: { value: 'all', command: 'admin channels' } }],
    ['<!channel> fix', { key: 'parse.bad_node', params: { value: '<!channel>' } }],
    ['<@U123|alice> fix', { key: 'parse.bad_node', params: { value: '<@U123|alice>' } }],
    ['"web prod 1 fix nginx', { key: 'parse.bad_node', params: { value: '"web prod 1 fix nginx' } }],
    ['"web"x fix', { key: 'parse.bad_node', params: { value: '"web"x' } }],
    ['"" fix', { key: 'parse.bad_node', params: { value: '""' } }],
    ['「 」 fix', { key: 'parse.bad_node', params: { value: '「 」' } }],
    [`${'n'.repeat(257)} fix`, { key: 'parse.bad_node', params: { value: `${'n'.repeat(60)}…` } }],
  ])('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual({ ok: false, error: expected });
  });

  test('every error renders completely in English', () => {
    for (const text of [
      '',
      'web-1',
      'web-1 x for 2x',
      'status',
      'status x',
      'list x',
      'admin x',
      'admin map-channel',
      '<!here> x',
    ]) {
      const { key, params } = error(text);
      expect(placeholderNames(t('en', key, params))).toEqual([]);
    }
  });
});

describe('isNodeId / formatNodeArgument', () => {
  test.each([
    ['i-0123abcd', true],
    ['i-0123456789abcdef0', true],
    ['I-0123ABCD', true],
    ['mi-0123456789abcdef0', true],
    ['i-0123abc', false],
    ['i-0123456789abcdef', false],
    ['mi-0123abcd', false],
    ['i-0123abcg', false],
    ['web-1', false],
  ])('isNodeId(%j) → %s', (text, expected) => {
    expect(isNodeId(text)).toBe(expected);
  });

  test.each([
    ['web-1', 'web-1'],
    ['web prod 1', '"web prod 1"'],
    ['list', '"list"'],
    ['Admin', '"Admin"'],
    ['<db>', '"<db>"'],
    ['"quoted"', '“"quoted"”'],
  ])('formatNodeArgument(%j) → %s', (node, typed) => {
    expect(formatNodeArgument(node)).toBe(typed);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties. The generators avoid what the grammar deliberately changes (control characters, `for` suffixes),
// and separate properties cover those changes.

const REMOVED = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
const collapse = (text: string) => text.trim().split(/\s+/).join(' ');
const codePoints = (text: string) => [...text].length;
const mentionsFor = (text: string) => /for/i.test(text.normalize('NFKC'));

const hexDigit = fc.constantFrom(...'0123456789abcdefABCDEF');
const hex = (length: number) => fc.string({ unit: hexDigit, minLength: length, maxLength: length });
const nodeIdArb = fc.oneof(
  hex(8).map((h) => `i-${h}`),
  hex(17).map((h) => `i-${h}`),
  hex(17).map((h) => `mi-${h}`),
  hex(17).map((h) => `MI-${h}`),
);
const nameTagArb = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((name) => name === name.trim() && name !== '' && !REMOVED.test(name) && codePoints(name) <= 256);
const awkwardNameArb = fc.constantFrom(
  ...['list', 'Help', 'ＡＤＭＩＮ', 'status', 'web prod 1', '"x', '“x”', '「x」', '<x>', 'for', '2h', 'JIT-7K3Q2'],
);
const nodeArb = fc.oneof(nodeIdArb, nameTagArb, awkwardNameArb);
const NODE_ID = /^(i-([0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$/i;
const expectedNode = (node: string) => (NODE_ID.test(node) ? node.toLowerCase() : node);

const reasonArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }).filter((reason) => {
  const normalised = collapse(reason);
  const fits = normalised !== '' && codePoints(normalised) <= MAX_REASON_LENGTH;
  return fits && !REMOVED.test(reason) && !mentionsFor(reason);
});
const markupReasonArb = fc
  .array(
    fc.constantFrom(
      ...['<!channel>', '@here', '<@U024BE7LH>', '*bold*', '_it_', '`code`', '```x```', '> quote', '[l](http://x)'],
      ...['مرحبا', 'שלום', '修复', 'デプロイ', '🧑‍💻', '👍🏽', '\u200f', 'e\u0301'],
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((parts) => parts.join(' '));

const durationArb = fc
  .record({
    d: fc.option(fc.integer({ min: 0, max: 30 })),
    h: fc.option(fc.integer({ min: 0, max: 99 })),
    m: fc.option(fc.integer({ min: 0, max: 999 })),
    s: fc.option(fc.integer({ min: 0, max: 9999 })),
    upper: fc.boolean(),
  })
  .filter(({ d, h, m, s }) => (d ?? 0) + (h ?? 0) + (m ?? 0) + (s ?? 0) > 0)
  .map(({ d, h, m, s, upper }) => {
    const part = (n: number | null, unit: string) => (n === null ? '' : `${n}${unit}`);
    const text = part(d, 'd') + part(h, 'h') + part(m, 'm') + part(s, 's');
    const ms = (d ?? 0) * 24 * HOUR + (h ?? 0) * HOUR + (m ?? 0) * MINUTE + (s ?? 0) * 1000;
    return { text: upper ? text.toUpperCase() : text, ms };
  });
const suffixFormArb = fc.constantFrom('for %', 'FOR %', '--for %', 'for:%', '--for=%', 'for\u3000%');
const suffixArb = fc
  .tuple(durationArb, suffixFormArb)
  .map(([duration, form]) => ({ text: form.replace('%', duration.text), ms: duration.ms }));

describe('properties', () => {
  test('the parser never throws and every error is a complete parse.* message', () => {
    const tokenSoup = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            ...['list', 'help', 'status', 'cancel', 'revoke', 'admin'],
            'map-channel',
            'unmap-channel',
            'channels',
          ),
          fc.constantFrom(...['for', '--for', 'for:', 'for:2h', '2h', '2x', '0m'], '"', '“', '」', '""', '<!here>'),
          fc.constantFrom('JIT-7K3Q2', 'jit-7k3qu', 'i-0123abcd', 'I-0123456789ABCDEF0', '字'.repeat(300)),
          fc.constantFrom(' ', '\u3000', '\n', '\u0000', '\u202e', '\uD800'),
          fc.string({ unit: 'grapheme', maxLength: 6 }),
        ),
        { maxLength: 12 },
      )
      .map((parts) => parts.join(' '));
    const anyText = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      tokenSoup,
    );
    fc.assert(
      fc.property(anyText, (text) => {
        const result = parseCommand(text);
        if (!result.ok) {
          expect(result.error.key.startsWith('parse.')).toBe(true);
          expect(isMessageKey(result.error.key)).toBe(true);
          const given = Object.keys(result.error.params ?? {});
          expect(placeholderNames(t('en', result.error.key)).filter((name) => !given.includes(name))).toEqual([]);
        } else if (result.command.kind === 'request') {
          const { reason, node } = result.command;
          expect(reason).toBe(collapse(reason));
          expect(reason).not.toBe('');
          expect(REMOVED.test(reason)).toBe(false);
          expect(codePoints(reason)).toBeLessThanOrEqual(MAX_REASON_LENGTH);
          expect(node).not.toBe('');
          expect(codePoints(node)).toBeLessThanOrEqual(256);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('any node and any non-blank reason round-trip', () => {
    fc.assert(
      fc.property(nodeArb, fc.oneof(reasonArb, markupReasonArb), (node, reason) => {
        expect(parseCommand(`${formatNodeArgument(node)} ${reason}`)).toEqual({
          ok: true,
          command: { kind: 'request', node: expectedNode(node), reason: collapse(reason) },
        });
      }),
      { numRuns: 1000 },
    );
  });

  test('a Name tag can always be forced with quotes, keywords included', () => {
    const keywordish = fc.constantFrom('list', 'HELP', 'Status', 'cancel', 'revoke', 'admin', 'ｌｉｓｔ');
    fc.assert(
      fc.property(
        fc.oneof(nameTagArb, keywordish).filter((name) => !name.includes('"')),
        reasonArb,
        (name, reason) => {
          expect(command(`"${name}" ${reason}`)).toEqual({ kind: 'request', node: name, reason: collapse(reason) });
        },
      ),
    );
  });

  test('a trailing duration in any accepted form is honoured and removed from the reason', () => {
    fc.assert(
      fc.property(nodeArb, fc.oneof(reasonArb, markupReasonArb), suffixArb, (node, reason, suffix) => {
        expect(command(`${formatNodeArgument(node)} ${reason} ${suffix.text}`)).toEqual({
          kind: 'request',
          node: expectedNode(node),
          reason: collapse(reason),
          durationMs: suffix.ms,
        });
      }),
      { numRuns: 1000 },
    );
  });

  test('whitespace of any kind collapses and control characters disappear', () => {
    const wordArb = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 8 })
      .filter((word) => !/\s/.test(word) && !REMOVED.test(word) && !mentionsFor(word));
    const whitespace = fc.constantFrom(' ', '\t', '\n', '\r', '\u3000', '\u00a0', '\u2028', '\u0085');
    const control = fc.constantFrom('\u0000', '\u0007', '\u001b', '\u007f', '\u009b', '\u202e', '\u2066');
    const gapArb = fc.string({ unit: whitespace, minLength: 1, maxLength: 3 });
    const noiseArb = fc.string({ unit: control, maxLength: 2 });
    const pieceArb = fc.tuple(noiseArb, wordArb, noiseArb, gapArb);
    fc.assert(
      fc.property(fc.array(pieceArb, { minLength: 1, maxLength: 20 }), (pieces) => {
        const typed = pieces.map(([before, word, after, gap]) => before + word + after + gap).join('');
        const words = pieces.map(([, word]) => word);
        expect(command(`web-1 ${typed}`)).toEqual({ kind: 'request', node: 'web-1', reason: words.join(' ') });
      }),
    );
  });

  test('reasons over 256 code points are refused with their length', () => {
    const longReasonArb = fc
      .string({ unit: 'grapheme', minLength: 257, maxLength: 600 })
      .filter((reason) => !REMOVED.test(reason) && !mentionsFor(reason))
      .filter((reason) => codePoints(collapse(reason)) > MAX_REASON_LENGTH);
    fc.assert(
      fc.property(nodeArb, longReasonArb, fc.option(suffixArb), (node, reason, suffix) => {
        expect(error(`${formatNodeArgument(node)} ${reason}${suffix ? ` ${suffix.text}` : ''}`)).toEqual({
          key: 'parse.reason_too_long',
          params: { length: codePoints(collapse(reason)), max: MAX_REASON_LENGTH },
        });
      }),
      { numRuns: 200 },
    );
  });

  test('request ids in status, cancel and revoke are normalised', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.constantFrom('status', 'cancel', 'revoke'),
        fc.boolean(),
        (bytes, kind, lower) => {
          const id = formatRequestId(bytes);
          expect(command(`${kind} ${lower ? id.toLowerCase() : id}`)).toEqual({ kind, requestId: id });
        },
      ),
    );
  });
});
