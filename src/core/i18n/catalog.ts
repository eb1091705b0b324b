import { en, type MessageKey } from './en';
import { ja } from './ja';
import { zhCN } from './zh-CN';

export type { MessageKey } from './en';
export { formatTime, isValidTimeZone } from './time';

export const LOCALES = ['en', 'zh-CN', 'ja'] as const;
export type Locale = (typeof LOCALES)[number];

export type MessageParams = Record<string, string | number>;

const CATALOGS: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN, ja };

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

export function isMessageKey(value: unknown): value is MessageKey {
  return typeof value === 'string' && Object.hasOwn(en, value);
}

/** All message keys, in catalog order. */
export const MESSAGE_KEYS = Object.keys(en) as MessageKey[];

/** The template for a key in a locale (unknown locales fall back to English). */
export function template(locale: Locale, key: MessageKey): string {
  return (CATALOGS[locale] ?? en)[key] ?? en[key];
}

/** The `{name}` placeholders a template uses, each once, in order of first use. */
export function placeholderNames(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(PLACEHOLDER), (match) => match[1]!))];
}

/**
 * The message for `key` in `locale`, with `{name}` placeholders replaced by `params`.
 * Substitution is a single pass, so parameter values that themselves contain `{…}` (user text) are never expanded.
 * A placeholder without a parameter stays visible as `{name}`, which makes a forgotten parameter easy to spot.
 */
export function t(locale: Locale, key: MessageKey, params?: MessageParams): string {
  const text = template(locale, key);
  if (!params) return text;
  const parts = templateParts(text);
  let message = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i]!;
    message += (Object.hasOwn(params, name) ? String(params[name]) : `{${name}}`) + parts[i + 1]!;
  }
  return message;
}

/** Catalog templates split at their placeholders once (even indexes: text, odd: placeholder names). */
const splitTemplates = new Map<string, readonly string[]>();
const PLACEHOLDER_SPLIT = new RegExp(PLACEHOLDER.source);

function templateParts(text: string): readonly string[] {
  let parts = splitTemplates.get(text);
  if (!parts) {
    parts = text.split(PLACEHOLDER_SPLIT);
    splitTemplates.set(text, parts);
  }
  return parts;
}

/**
 * The catalog locale for a language tag a platform reports (`ja-JP` → `ja`, `zh-Hans-CN` → `zh-CN`),
 * or undefined when jitbot has no catalog for that language.
 */
export function matchLocale(tag: string | undefined): Locale | undefined {
  if (!tag) return undefined;
  const [language, ...rest] = tag.replace(/_/g, '-').toLowerCase().split('-');
  if (language === 'en') return 'en';
  if (language === 'ja') return 'ja';
  // Only simplified Chinese has a catalog; Taiwan, Hong Kong and Macao use traditional characters.
  if (language === 'zh' && !rest.some((part) => ['hant', 'tw', 'hk', 'mo'].includes(part))) return 'zh-CN';
  return undefined;
}

/** Message bases with a `.one` and an `.other` form, e.g. `sessions.terminated`. */
export type PluralKey = {
  [K in MessageKey]: K extends `${infer Base}.other` ? (`${Base}.one` extends MessageKey ? Base : never) : never;
}[MessageKey];

const pluralRules = new Map<Locale, Intl.PluralRules>();

/**
 * The message for `count` in the locale's plural form: `<base>.one` or `<base>.other` (Chinese and Japanese have
 * only "other"; forms a locale has beyond these two also use "other"). `{count}` is filled in.
 */
export function tPlural(locale: Locale, base: PluralKey, count: number, params?: MessageParams): string {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  const form = rules.select(count) === 'one' ? 'one' : 'other';
  return t(locale, `${base}.${form}` as MessageKey, { ...params, count });
}
