import type { Serde } from '@hetu/schemas';
import type { AppendRecord } from '../port.ts';
import type { DeadLetter } from './processor.ts';
import { DLQ_TOPIC } from './runtime.ts';

/**
 * Encodes dead letters as the catalogue's `DeadLetter` Avro record (Confluent wire format), so any
 * Kafka-native consumer and `hetu tail hetu.dlq` can read them. Keyed by source position.
 */
export function avroDeadLetterEncoder(serde: Serde, topic = DLQ_TOPIC) {
  return async (dl: DeadLetter, deadLetteredAt: number): Promise<AppendRecord> => ({
    key: Buffer.from(`${dl.source.topic}/${dl.source.partition}/${dl.source.offset}`),
    value: await serde.encode(topic, 'DeadLetter', {
      ts: deadLetteredAt,
      processor: dl.processor,
      reasonCode: dl.reasonCode,
      message: dl.message,
      sourceTopic: dl.source.topic,
      sourcePartition: dl.source.partition,
      sourceOffset: dl.source.offset,
      sourceTimestamp: dl.timestamp,
      sourceFile: null,
      sourceLine: null,
      key: dl.key,
      value: dl.value,
      headers: { ...dl.headers },
    }),
    timestamp: deadLetteredAt,
  });
}
