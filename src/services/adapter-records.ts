import type { AdapterRecords } from '../ports/adapter-module';
import type { Store } from '../ports/store';

/** An adapter's records: the store's durable records under the namespace `adapter:<name>`. */
export function adapterRecords(store: Store, adapterName: string): AdapterRecords {
  const namespace = `adapter:${adapterName}`;
  return {
    async put(key, value, order) {
      await store.putRecord(namespace, { key, value, ...(order !== undefined && { order }) });
    },
    async get(key) {
      return (await store.getRecord(namespace, key))?.value;
    },
    async list({ limit, newestFirst }) {
      const records = await store.listRecords(namespace, {
        limit,
        by: 'order',
        ...(newestFirst !== undefined && { newestFirst }),
      });
      return records.flatMap((record) =>
        record.order === undefined ? [] : [{ key: record.key, value: record.value, order: record.order }],
      );
    },
    async delete(key) {
      await store.deleteRecord(namespace, key);
    },
  };
}
