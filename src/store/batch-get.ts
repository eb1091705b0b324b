import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ItemKey } from './keys';

const MAX_KEYS_PER_BATCH = 100;
const MAX_ROUNDS = 8;

/**
 * Strongly consistent reads of many items (BatchGetItem with ConsistentRead), retrying unprocessed keys.
 * Missing items are simply absent from the result; the order of the result is not the order of `keys`.
 */
export async function consistentBatchGet(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: ItemKey[],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += MAX_KEYS_PER_BATCH) {
    let pending: ItemKey[] = keys.slice(start, start + MAX_KEYS_PER_BATCH);
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_ROUNDS)
        throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${MAX_ROUNDS} rounds`);
      if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
      const output = await client.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(output.Responses?.[tableName] ?? []));
      pending = (output.UnprocessedKeys?.[tableName]?.Keys ?? []) as ItemKey[];
    }
  }
  return items;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
