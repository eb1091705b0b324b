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

/** The newest event, as the store's head record names it (written in the same step as every append). */
export interface AuditHead {
  seq: number;
  hash: string;
}

/** The newest event removed by retention pruning: the retained chain continues from here. */
export interface AuditPruningPoint {
  seq: number;
  hash: string;
  /** When that event happened (epoch ms). */
  at: number;
}

/** What the store records besides the events, so that removing events at either end is detected. */
export interface AuditAnchors {
  head?: AuditHead;
  pruned?: AuditPruningPoint;
}

export type AuditChainVerdict = { ok: true; count: number } | { ok: false; brokenAt: number; reason: string };

/**
 * Checks events given oldest first against the store's anchors. `brokenAt` is the seq of the first event that
 * does not check out (or of the first one missing).
 *
 * - The chain starts at seq 1 (linked to the genesis hash) or right after the recorded pruning point (linked to its
 *   hash); events the pruning point covers may still be present (pruning deletes them after recording it).
 *   Anything else means the oldest events were deleted inside the retention period.
 * - Every event links to the one before it and its content matches its hash (edits, gaps, reordering).
 * - The chain reaches the head record's seq with the head's hash (a deleted newest event). Events newer than the
 *   head are fine: anchors are read before the events, and appends go on meanwhile.
 */
export function verifyAuditChain(events: readonly AuditEvent[], anchors: AuditAnchors): AuditChainVerdict {
  const { head, pruned } = anchors;
  const first = events[0];
  const retainedFrom = pruned ? pruned.seq + 1 : 1;
  if (!first) {
    if (head && head.seq >= retainedFrom) {
      return {
        ok: false,
        brokenAt: retainedFrom,
        reason: `${missing(retainedFrom, head.seq)} missing: the head record names event ${head.seq} as the newest`,
      };
    }
    return { ok: true, count: 0 };
  }

  if (first.seq > retainedFrom) {
    const after = pruned ? `right after the pruning point (event ${pruned.seq})` : 'at event 1';
    return {
      ok: false,
      brokenAt: retainedFrom,
      reason: `${missing(retainedFrom, first.seq - 1)} missing: the chain must start ${after}`,
    };
  }

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
    } else if (pruned && event.seq === pruned.seq + 1 && event.prevHash !== pruned.hash) {
      return broken(event, `prevHash does not match the pruning point (event ${pruned.seq})`);
    }
    if (hashAuditEvent(event.prevHash, event, event.seq) !== event.hash) {
      return broken(event, 'content does not match its hash');
    }
    if (pruned && event.seq === pruned.seq && event.hash !== pruned.hash) {
      return broken(event, 'hash does not match the pruning point');
    }
    if (head && event.seq === head.seq && event.hash !== head.hash) {
      return broken(event, 'hash does not match the head record');
    }
    previous = event;
  }

  const last = previous!;
  if (!head) {
    return {
      ok: false,
      brokenAt: last.seq,
      reason: `the audit head record is missing (the log holds events up to ${last.seq})`,
    };
  }
  if (last.seq < head.seq) {
    return {
      ok: false,
      brokenAt: last.seq + 1,
      reason: `${missing(last.seq + 1, head.seq)} missing: the head record names event ${head.seq} as the newest`,
    };
  }
  return { ok: true, count: events.length };
}

/** "event 7 is" or "events 7–9 are". */
function missing(from: number, to: number): string {
  return from === to ? `event ${from} is` : `events ${from}–${to} are`;
}

function broken(event: AuditEvent, reason: string): AuditChainVerdict {
  return { ok: false, brokenAt: event.seq, reason: `event ${event.seq}: ${reason}` };
}
