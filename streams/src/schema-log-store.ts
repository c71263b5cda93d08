import type { SchemaStore, SchemaStoreEntry } from '@hetu/schemas';
import type { Log } from './port.ts';

/** The topic that holds the embedded registry's schemas (like Confluent's `_schemas`). */
export const SCHEMAS_TOPIC = '_schemas';

/**
 * Backs the embedded schema registry with the log: every registration and compatibility setting
 * is one record of the `_schemas` topic (one partition, kept forever), replayed in order on start.
 */
export async function logSchemaStore(log: Log): Promise<SchemaStore> {
  await log.ensureTopics([{ name: SCHEMAS_TOPIC, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
  return {
    async load() {
      const out: SchemaStoreEntry[] = [];
      for (const r of await log.read(SCHEMAS_TOPIC, 0)) {
        if (r.value !== null) out.push(JSON.parse(r.value.toString('utf8')) as SchemaStoreEntry);
      }
      return out;
    },
    async append(entry) {
      const key =
        entry.kind === 'schema'
          ? `schema/${entry.subject}/${entry.version}`
          : `config/${entry.subject ?? ''}`;
      await log.append(SCHEMAS_TOPIC, [
        { key: Buffer.from(key), value: Buffer.from(JSON.stringify(entry)), partition: 0 },
      ]);
    },
  };
}
