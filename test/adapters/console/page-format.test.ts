import vm from 'node:vm';
import { loadConsolePageAssets } from '../../../adapters/console/page-assets';
import { formatTime as botTime } from '../../../src/core/i18n/time';

// The page's own times (message stamps, "updated", table cells) use the bot's one format, and table columns never
// break a word in the middle ("pendin g").

/** The page as it is served: the script compiled from client.ts, and the style. */
const { script: CONSOLE_PAGE_SCRIPT, css: CONSOLE_PAGE_CSS } = loadConsolePageAssets();

/** One named function from the page script, run on its own. */
function pageFunction<T>(name: string, context: Record<string, unknown> = {}): T {
  const source = new RegExp(`\\n( +)function ${name}\\([^)]*\\) \\{[\\s\\S]*?\\n\\1\\}`).exec(CONSOLE_PAGE_SCRIPT);
  if (!source) throw new Error(`no function ${name} in the page script`);
  return vm.runInNewContext(`(${source[0].trim()})`, { Date, String, ...context }) as T;
}

/** The declarations of every rule whose selector list names `selector`, however the style sheet is laid out. */
function declarationsFor(css: string, selector: string): string {
  const rules = [...css.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/([^{}]*)\{([^}]*)\}/g)];
  return rules
    .filter(([, selectors]) => selectors!.split(',').some((each) => each.trim() === selector))
    .map(([, , declarations]) => declarations)
    .join(';');
}

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const at = Date.UTC(2025, 2, 1, 6, 5, 30);

test('the page formats times exactly as the bot does in the same zone', () => {
  const formatTime = pageFunction<(at: number) => string>('formatTime');
  expect(formatTime(at)).toBe(botTime('en', at, zone));
  expect(CONSOLE_PAGE_SCRIPT).not.toMatch(/toLocale(Time|Date)?String/);
});

test('table cells show epoch and ISO times in that format, other values as they are', () => {
  const formatTime = pageFunction<(at: number) => string>('formatTime');
  const cellText = pageFunction<(key: string, value: unknown) => string>('cellText', {
    formatTime,
    TIME_KEY: /(^at$|At$|Time$|^time$)/,
    clip: (text: string) => text,
    formatDuration: (ms: number) => `${ms}ms`,
    formatObject: () => '',
  });
  expect(cellText('at', at)).toBe(botTime('en', at, zone));
  expect(cellText('createdAt', new Date(at).toISOString())).toBe(botTime('en', at, zone));
  expect(cellText('status', 'pending')).toBe('pending');
  expect(cellText('reason', '2025-03-01T06:05:30Z is when it broke')).toBe('2025-03-01T06:05:30Z is when it broke');
});

test('table cells wrap between words, not inside them', () => {
  const rules = declarationsFor(CONSOLE_PAGE_CSS, '.data-table td');
  expect(rules).toContain('overflow-wrap: break-word');
  expect(rules).not.toContain('anywhere');
});
