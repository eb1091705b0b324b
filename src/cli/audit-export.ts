import { parseDuration } from '../core/duration';
import type { AuditEvent } from '../ports/store';

// Audit export formats for `jitbot audit export`.

const CSV_COLUMNS = [
  'seq',
  'at',
  'actor',
  'action',
  'requestId',
  'from',
  'to',
  'comment',
  'deliveryId',
  'detail',
  'prevHash',
  'hash',
] as const;

export function auditToJsonl(events: readonly AuditEvent[]): string {
  return events.map((event) => `${JSON.stringify({ ...event, at: new Date(event.at).toISOString() })}\n`).join('');
}

export function auditToCsv(events: readonly AuditEvent[]): string {
  const rows = events.map((event) =>
    CSV_COLUMNS.map((column) => {
      const value = event[column];
      if (value === undefined) return '';
      if (column === 'at') return new Date(value as number).toISOString();
      return csvCell(typeof value === 'object' ? JSON.stringify(value) : String(value));
    }).join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

/** RFC 4180 quoting; a leading formula character is neutralised so spreadsheets don't execute user text. */
function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** `--since`: an ISO date/time, or a duration back from now (7d, 12h). Undefined when it is neither. */
export function parseSince(text: string, now: number): number | undefined {
  const back = parseDuration(text);
  if (back !== undefined) return now - back;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}
