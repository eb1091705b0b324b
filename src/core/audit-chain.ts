import { createHash } from 'node:crypto';
import type { RequestStatus } from './model';

// The audit log is a hash chain: each event's hash covers the previous event's hash and the event's own
// content, so editing, removing or reordering a stored event breaks every hash after it.

export interface AuditInput {
  at: number;
  actor: string;
  action: string;
  requestId?: string;
  from?: RequestStatus;
  to?: RequestStatus;
  comment?: string;
  deliveryId?: string;
  detail?: Record<string, unknown>;
}

/** An appended audit event. `hash` = sha256(prevHash + canonical JSON of the event without hash). */
export interface AuditEvent extends AuditInput {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The prevHash of the very first event (seq 1). */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted at every level, so equal data always gives equal text. `undefined` is left out
 * everywhere (also inside arrays), matching what the store keeps; non-finite numbers, bigints and functions
 * cannot be stored and are refused.
 */
export function canonicalJson(value: unknown): string {
  const text = canonical(value);
  if (text === undefined) throw new TypeError('canonicalJson: value is undefined');
  return text;
}

function canonical(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a finite number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        const parts = value.map(canonical).filter((part): part is string => part !== undefined);
        return `[${parts.join(',')}]`;
      }
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const part = canonical(record[key]);
        if (part !== undefined) parts.push(`${JSON.stringify(key)}:${part}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}

/** sha256 (hex) of prevHash followed by the canonical JSON of the event without its hash. */
export function hashAuditEvent(prevHash: string, input: AuditInput, seq: number): string {
  const { seq: _seq, prevHash: _prev, hash: _hash, ...content } = input as AuditInput & Partial<AuditEvent>;
  const body = canonicalJson({ ...content, seq, prevHash });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

export type AuditChainVerdict = { ok: true; count: number } | { ok: false; brokenAt: number; reason: string };

/**
 * Checks events given oldest first. Retention (TTL) may have deleted the oldest events, so the first event
 * present is trusted to link to something; only seq 1 must link to the genesis hash.
 * `brokenAt` is the seq of the first event that does not check out.
 */
export function verifyAuditChain(events: AuditEvent[]): AuditChainVerdict {
  let previous: AuditEvent | undefined;
  for (const event of events) {
    if (previous) {
      if (event.seq !== previous.seq + 1) {
        return broken(event, `expected seq ${previous.seq + 1} after ${previous.seq}, found ${event.seq}`);
      }
      if (event.prevHash !== previous.hash) {
        return broken(event, `prevHash does not match the hash of event ${previous.seq}`);
      }
    } else if (event.seq === 1 && event.prevHash !== GENESIS_HASH) {
      return broken(event, 'the first event does not link to the genesis hash');
    }
    if (hashAuditEvent(event.prevHash, event, event.seq) !== event.hash) {
      return broken(event, 'content does not match its hash');
    }
    previous = event;
  }
  return { ok: true, count: events.length };
}

function broken(event: AuditEvent, reason: string): AuditChainVerdict {
  return { ok: false, brokenAt: event.seq, reason: `event ${event.seq}: ${reason}` };
}
