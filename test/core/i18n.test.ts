import {
  LOCALES,
  MESSAGE_KEYS,
  formatTime,
  isLocale,
  isMessageKey,
  isValidTimeZone,
  placeholderNames,
  t,
  template,
  type Locale,
} from '../../src/core/i18n/catalog';
import { en } from '../../src/core/i18n/en';
import { ja } from '../../src/core/i18n/ja';
import { zhCN } from '../../src/core/i18n/zh-CN';

const CATALOGS: Record<Locale, Record<string, string>> = { en, 'zh-CN': zhCN, ja };
const sorted = (values: string[]) => [...values].sort();

describe('catalogs', () => {
  test('the locales are en, zh-CN and ja', () => {
    expect(LOCALES).toEqual(['en', 'zh-CN', 'ja']);
  });

  test.each(LOCALES)('%s has exactly the English keys', (locale) => {
    expect(sorted(Object.keys(CATALOGS[locale]))).toEqual(sorted(Object.keys(en)));
    expect(sorted(MESSAGE_KEYS)).toEqual(sorted(Object.keys(en)));
  });

  test.each(LOCALES)('%s has no empty messages', (locale) => {
    const empty = MESSAGE_KEYS.filter((key) => template(locale, key).trim() === '');
    expect(empty).toEqual([]);
  });

  test.each(LOCALES)('%s uses the same {param} names as English for every key', (locale) => {
    const mismatched = MESSAGE_KEYS.filter(
      (key) => sorted(placeholderNames(template(locale, key))).join() !== sorted(placeholderNames(en[key])).join(),
    ).map((key) => `${key}: ${template(locale, key)}`);
    expect(mismatched).toEqual([]);
  });

  test.each(LOCALES)('%s has no stray braces outside {param} placeholders', (locale) => {
    const stray = MESSAGE_KEYS.filter((key) => /[{}]/.test(template(locale, key).replace(/\{[A-Za-z_]\w*\}/g, '')));
    expect(stray).toEqual([]);
  });

  test.each(LOCALES)('%s: filling every param of every key leaves no placeholder behind', (locale) => {
    for (const key of MESSAGE_KEYS) {
      const names = placeholderNames(en[key]);
      const params = Object.fromEntries(names.map((name) => [name, `<${name}>`]));
      const text = t(locale, key, params);
      expect(placeholderNames(text)).toEqual([]);
      for (const name of names) expect(text).toContain(`<${name}>`);
    }
  });

  test.each(LOCALES)('%s help explains every command, duration format and node form', (locale) => {
    const help = t(locale, 'help');
    for (const part of [
      '/jit <',
      '/jit list',
      '/jit status',
      '/jit cancel',
      '/jit revoke',
      '/jit help',
      '/jit admin map-channel',
      '/jit admin unmap-channel',
      '/jit admin channels',
      '30m',
      '2h',
      '1d',
      '1h30m',
      'i-…',
      'mi-…',
      'Name',
    ]) {
      expect(help).toContain(part);
    }
    expect(help.split('\n').length).toBeGreaterThan(5);
  });

  test.each(LOCALES)('%s keeps command examples typeable (English keywords, example id)', (locale) => {
    expect(t(locale, 'usage')).toMatch(/\/jit list .*\/jit status .*\/jit cancel .*\/jit revoke .*\/jit help/);
    expect(t(locale, 'parse.missing_id', { command: 'status' })).toContain('/jit status JIT-7K3Q2');
    expect(t(locale, 'parse.missing_role')).toContain('/jit admin map-channel ops-approvers');
  });

  test('English texts are the agreed ones', () => {
    expect(en['parse.reason_too_long']).toBe('The reason is {length} characters; keep it to {max}.');
    expect(en['request.submitted']).toBe(
      'Submitted {id} for {node}: waiting for Level {level} of {levels} ({approvers}).',
    );
    expect(en['card.status.pending']).toBe('⏳ Waiting for Level {level} of {levels}: {approvers}');
  });
});

describe('t', () => {
  test('fills parameters, numbers included', () => {
    expect(t('en', 'parse.reason_too_long', { length: 300, max: 256 })).toBe(
      'The reason is 300 characters; keep it to 256.',
    );
    expect(t('zh-CN', 'cancel.done', { id: 'JIT-7K3Q2' })).toBe('已取消 JIT-7K3Q2。');
    expect(t('ja', 'cancel.done', { id: 'JIT-7K3Q2' })).toBe('JIT-7K3Q2 をキャンセルしました。');
  });

  test('a missing parameter stays visible', () => {
    expect(t('en', 'cancel.done')).toBe('Cancelled {id}.');
    expect(t('en', 'card.title', { id: 'JIT-7K3Q2' })).toBe('JIT-7K3Q2 · {node}');
  });

  test('extra parameters are ignored', () => {
    expect(t('en', 'cancel.done', { id: 'JIT-7K3Q2', node: 'web-1' })).toBe('Cancelled JIT-7K3Q2.');
  });

  test('user text that looks like a placeholder is not expanded', () => {
    expect(t('en', 'card.title', { id: '{node}', node: 'web-1' })).toBe('{node} · web-1');
    expect(
      t('en', 'status.line', { id: 'JIT-7K3Q2', node: 'n', status: 's', requester: 'r', reason: '{id} $& $1' }),
    ).toBe('JIT-7K3Q2 · n · s · requested by r · {id} $& $1');
  });

  test('only own properties of params count', () => {
    const params = Object.create({ id: 'inherited' }) as Record<string, string>;
    expect(t('en', 'cancel.done', params)).toBe('Cancelled {id}.');
  });

  test('same placeholder used twice is filled twice', () => {
    expect(t('en', 'card.status.revoked', { by: 'Ann', at: '10:00' })).toBe('⛔ Revoked by Ann at 10:00');
  });
});

describe('isLocale / isMessageKey', () => {
  test.each([
    ['en', true],
    ['zh-CN', true],
    ['ja', true],
    ['zh', false],
    ['EN', false],
    ['', false],
    [undefined, false],
  ])('isLocale(%j) → %s', (value, expected) => {
    expect(isLocale(value)).toBe(expected);
  });

  test('isMessageKey knows the catalog keys only', () => {
    expect(isMessageKey('parse.empty')).toBe(true);
    expect(isMessageKey('parse.nope')).toBe(false);
    expect(isMessageKey('toString')).toBe(false);
    expect(isMessageKey(42)).toBe(false);
  });
});

describe('formatTime', () => {
  const march1st1405Utc = Date.UTC(2025, 2, 1, 14, 5);

  test('YYYY-MM-DD HH:MM in UTC by default', () => {
    expect(formatTime('en', march1st1405Utc)).toBe('2025-03-01 14:05');
  });

  test('in the given time zone, crossing the date line', () => {
    expect(formatTime('zh-CN', Date.UTC(2025, 0, 1, 16, 5), 'Asia/Shanghai')).toBe('2025-01-02 00:05');
    expect(formatTime('ja', Date.UTC(2025, 0, 1, 16, 5), 'Asia/Tokyo')).toBe('2025-01-02 01:05');
    expect(formatTime('en', Date.UTC(2025, 0, 1, 3, 0), 'America/New_York')).toBe('2024-12-31 22:00');
  });

  test('follows daylight saving time', () => {
    expect(formatTime('en', Date.UTC(2025, 0, 15, 12, 0), 'Europe/Berlin')).toBe('2025-01-15 13:00');
    expect(formatTime('en', Date.UTC(2025, 6, 15, 12, 0), 'Europe/Berlin')).toBe('2025-07-15 14:00');
  });

  test('midnight is 00:00, never 24:00', () => {
    expect(formatTime('en', Date.UTC(2025, 5, 30, 0, 0))).toBe('2025-06-30 00:00');
  });

  test('the same format for every locale', () => {
    const outputs = LOCALES.map((locale) => formatTime(locale, march1st1405Utc, 'Asia/Tokyo'));
    expect(new Set(outputs)).toEqual(new Set(['2025-03-01 23:05']));
  });

  test('an unknown time zone is refused', () => {
    expect(() => formatTime('en', march1st1405Utc, 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('Asia/Shanghai')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
  });
});
