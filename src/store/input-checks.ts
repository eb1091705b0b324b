import type { InboundEvent } from '../ports/chat';
import type { DurableRecord } from '../ports/store';

// Input checks shared by both stores, so bad input fails the same way on each.

export function assertNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || namespace.length === 0)
    throw new Error('record namespace must be a non-empty string');
}

export function assertRecordName(namespace: string, key: string): void {
  assertNamespace(namespace);
  if (typeof key !== 'string' || key.length === 0)
    throw new Error(`record key in "${namespace}" must be a non-empty string`);
}

/** The record's value as JSON text; throws for values JSON cannot hold and for a non-finite order. */
export function recordJson(namespace: string, record: DurableRecord): string {
  assertRecordName(namespace, record.key);
  if (record.order !== undefined && !Number.isFinite(record.order)) {
    throw new Error(`record ${namespace}/${record.key}: order must be a finite number`);
  }
  const json = JSON.stringify(record.value);
  if (json === undefined)
    throw new Error(`record ${namespace}/${record.key}: value must be JSON (got ${typeof record.value})`);
  return json;
}

export function assertExpectedVersion(expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && !(Number.isInteger(expectedVersion) && expectedVersion >= 0)) {
    throw new Error(`putRecord: expectedVersion must be a non-negative integer (got ${expectedVersion})`);
  }
}

export function assertInboundEvent(event: InboundEvent): void {
  if (
    !event ||
    typeof event.platform !== 'string' ||
    typeof event.deliveryId !== 'string' ||
    event.deliveryId.length === 0
  ) {
    throw new Error('recordInboundEvent: the event needs a platform and a non-empty deliveryId');
  }
}
