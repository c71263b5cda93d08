import { HetuError } from '../errors.ts';
import { topicEntry, type RecordName, type Serde } from '@hetu/schemas';

/**
 * Encodes facts as the Avro record the topic catalogue names for their topic (Confluent wire
 * format, registered under `<topic>-value`). A topic whose schema is not written yet is refused.
 */
export function avroFactEncoder(serde: Serde) {
  return async (topic: string, value: unknown): Promise<Buffer> => {
    const record: RecordName | null = topicEntry(topic)?.valueSchema ?? null;
    if (!record)
      throw new HetuError(
        'HETU_RUNTIME_NO_SCHEMA',
        `Topic ${topic} has no value schema in the catalogue yet, so its facts cannot be encoded.`,
      );
    return serde.encode(topic, record, value as never);
  };
}
