import type { SchemaStore, SchemaStoreEntry } from '@hetu/schemas';
import type { Log } from './port.ts';

/** The topic that holds the embedded registry's schemas (like Confluent's `_schemas`). */
export const SCHEMAS_TOPIC = '_schemas';

/**
 * Backs the embedded schema registry with the log: every registration and compatibility setting
 * is one record of the `_schemas` topic (one partition, kept forever), replayed in order on start.
 * Another process on the same data directory (`hetu load` beside `hetu start`) may register
 * schemas too: `refresh` hands the registry what was written since it last looked, and the
 * registry reads it before it answers or assigns an id.
 */
export async function logSchemaStore(log: Log): Promise<SchemaStore> {
  await log.ensureTopics([{ name: SCHEMAS_TOPIC, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
  // Next offset to read; the registry applies an entry it already knows as a no-op.
  let next = 0n;
  const readNew = async (): Promise<SchemaStoreEntry[]> => {
    const out: SchemaStoreEntry[] = [];
    for (const r of await log.read(SCHEMAS_TOPIC, 0, { fromOffset: next })) {
      if (r.value !== null) out.push(JSON.parse(r.value.toString('utf8')) as SchemaStoreEntry);
      next = r.offset + 1n;
    }
    return out;
  };
  return {
    load: readNew,
    refresh: readNew,
    async append(entry) {
      const key =
        entry.kind === 'schema'
          ? `schema/${entry.subject}/${entry.version}`
          : `config/${entry.subject ?? ''}`;
      const [pos] = await log.append(SCHEMAS_TOPIC, [
        { key: Buffer.from(key), value: Buffer.from(JSON.stringify(entry)), partition: 0 },
      ]);
      // Our own entry is applied by the registry; read past it unless others wrote before it.
      if (pos!.offset === next) next = pos!.offset + 1n;
    },
  };
}
