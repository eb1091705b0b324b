import type { Locale } from './catalog';

// One unambiguous format for every locale: ops teams across regions read "2025-03-01 14:05" the same way.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      numberingSystem: 'latn',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True if Intl knows the IANA time zone name (e.g. "Asia/Shanghai", "UTC"). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * `YYYY-MM-DD HH:MM` in `timeZone` (an IANA name, default UTC). The same format is used for every locale.
 * Throws RangeError for an unknown time zone or a non-finite time; validate configured zones with isValidTimeZone.
 */
export function formatTime(_locale: Locale, epochMs: number, timeZone = 'UTC'): string {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) parts[part.type] = part.value;
  const year = (parts.year ?? '').padStart(4, '0');
  return `${year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
