import type { Platform } from '../core/model';
import type { DueKind } from '../ports/store';

// Key values of every item type. Variable parts go last, so a '#' inside an id cannot make two keys collide.

export interface ItemKey {
  pk: string;
  sk: string;
}

export const requestKey = (id: string): ItemKey => ({ pk: `REQ#${id}`, sk: 'REQ' });

export const deliveryKey = (platform: Platform, deliveryId: string): ItemKey => ({
  pk: `DELIVERY#${platform}#${deliveryId}`,
  sk: 'DELIVERY',
});

export const leaseKey = (name: string): ItemKey => ({ pk: `LEASE#${name}`, sk: 'LEASE' });

/** Channel mappings share one partition so the whole (small) set is one strongly consistent Query. */
export const CHANNELS_PK = 'CHANNELS';
export const channelKey = (platform: Platform, channelId: string): ItemKey => ({
  pk: CHANNELS_PK,
  sk: `CHANNEL#${platform}#${channelId}`,
});

/** Audit events share one partition, ordered by sequence number. */
export const AUDIT_PK = 'AUDIT';
const SEQ_DIGITS = 16; // Number.MAX_SAFE_INTEGER has 16 digits, so every safe seq sorts correctly as text.
export const auditSortKey = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');
export const auditKey = (seq: number): ItemKey => ({ pk: AUDIT_PK, sk: auditSortKey(seq) });

/** The audit head (newest seq + hash) and the pruning point share one small partition: one read fetches both. */
export const AUDIT_ANCHORS_PK = 'AUDIT_ANCHORS';
export const auditHeadKey: ItemKey = { pk: AUDIT_ANCHORS_PK, sk: 'HEAD' };
export const auditPrunedKey: ItemKey = { pk: AUDIT_ANCHORS_PK, sk: 'PRUNED' };

/** Durable records: one partition per namespace, so a namespace lists by key with one consistent Query. */
export const recordPartition = (namespace: string): string => `REC#${namespace}`;
export const recordKey = (namespace: string, key: string): ItemKey => ({
  pk: recordPartition(namespace),
  sk: `REC#${key}`,
});

// Index partition values.
export const duePartition = (kind: DueKind): string => `DUE#${kind}`;
export const requesterPartition = (platform: Platform, userId: string): string => `USER#${platform}#${userId}`;
export const RECENT_PARTITION = 'REQS';
export const OUTBOX_PARTITION = 'OUTBOX';
/** Unprocessed inbound events, in the outbox index next to (not mixed with) the requests' outboxes. */
export const INBOX_PARTITION = 'INBOX';
