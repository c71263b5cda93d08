import type { Serde } from '@hetu/schemas';
import type { AppendRecord } from '../port.ts';
import type { DeadLetter } from './processor.ts';
import { DLQ_TOPIC } from './runtime.ts';

/**
 * The most of an input's key or value a dead letter keeps (256 KiB): an oversize input (over
 * 1 MiB, HETU_SERDE_OVERSIZE) would otherwise make a dead letter that no reader may decode and
 * that Kafka refuses. What was cut is said in the dead letter's message.
 */
export const DEAD_LETTER_MAX_BYTES = 256 * 1024;

function cut(bytes: Buffer | null, what: string, notes: string[]): Buffer | null {
  if (bytes === null || bytes.length <= DEAD_LETTER_MAX_BYTES) return bytes;
  notes.push(
    `${what} cut to its first ${DEAD_LETTER_MAX_BYTES} of ${bytes.length} bytes in this dead letter`,
  );
  return bytes.subarray(0, DEAD_LETTER_MAX_BYTES);
}

/**
 * Encodes dead letters as the catalogue's `DeadLetter` Avro record (Confluent wire format), so any
 * Kafka-native consumer and `hetu tail hetu.dlq` can read them. Keyed by source position.
 */
export function avroDeadLetterEncoder(serde: Serde, topic = DLQ_TOPIC) {
  return async (dl: DeadLetter, deadLetteredAt: number): Promise<AppendRecord> => {
    const notes: string[] = [];
    const key = cut(dl.key, 'key', notes);
    const value = cut(dl.value, 'value', notes);
    return {
      key: Buffer.from(`${dl.source.topic}/${dl.source.partition}/${dl.source.offset}`),
      value: await serde.encode(topic, 'DeadLetter', {
        ts: deadLetteredAt,
        processor: dl.processor,
        reasonCode: dl.reasonCode,
        message: notes.length > 0 ? `${dl.message} (The input's ${notes.join(', its ')}.)` : dl.message,
        sourceTopic: dl.source.topic,
        sourcePartition: dl.source.partition,
        sourceOffset: dl.source.offset,
        sourceTimestamp: dl.timestamp,
        sourceFile: null,
        sourceLine: null,
        key,
        value,
        headers: { ...dl.headers },
      }),
      timestamp: deadLetteredAt,
    };
  };
}
