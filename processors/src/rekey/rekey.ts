import type { AppendRecord, LogRecord, ProcessorDefinition } from '@hetu/streams';

/** Headers a re-keyed record carries: where it came from, so evidence keeps its real position. */
export const SOURCE_TOPIC_HEADER = 'hetu-source-topic';
export const SOURCE_PARTITION_HEADER = 'hetu-source-partition';
export const SOURCE_OFFSET_HEADER = 'hetu-source-offset';
export const SOURCE_KEY_HEADER = 'hetu-source-key';

/** The source position of a record: its own, or the one a re-key stage recorded in its headers. */
export function sourceOf(r: LogRecord): {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
} {
  const h = r.headers;
  const topic = h[SOURCE_TOPIC_HEADER];
  if (topic) {
    return {
      topic: topic.toString('utf8'),
      partition: Number(h[SOURCE_PARTITION_HEADER]?.toString('utf8') ?? '0'),
      offset: h[SOURCE_OFFSET_HEADER]?.toString('utf8') ?? '0',
      key: h[SOURCE_KEY_HEADER]?.toString('utf8') ?? null,
    };
  }
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset.toString(),
    key: r.key?.toString('utf8') ?? null,
  };
}

/**
 * A stateless stage that copies records of several topics into one topic under a new key (Kafka
 * Streams' repartition), so a later processor finds everything it joins in one partition: e.g.
 * every fact of a cluster under the cluster's name. Values are copied byte for byte (tombstones
 * too); the source topic, partition, offset and key travel in headers (`sourceOf`). `keyOf`
 * returns null to drop a record.
 */
export function rekeyProcessor(opts: {
  name: string;
  inputs: readonly string[];
  output: string;
  keyOf(record: LogRecord): string | null;
  /**
   * Read every input partition in one task, merged by event time, so the output comes out in one
   * order whatever the number of input partitions (the feed of the cluster-wide stages).
   */
  singleTask?: boolean;
}): ProcessorDefinition<LogRecord, never> {
  return {
    name: opts.name,
    ...(opts.singleTask ? { singleTask: true } : {}),
    inputs: opts.inputs,
    changelogTopic: `hetu.state.${opts.name}`,
    encodeState: () => Buffer.alloc(0),
    decodeState: () => {
      throw new Error('a re-key stage has no state');
    },
    decodeInput: (r) => r,
    process: (_store, r, ctx) => {
      const key = opts.keyOf(r);
      if (key === null) return;
      const src = sourceOf(r);
      const out: AppendRecord = {
        key: Buffer.from(key),
        value: r.value,
        timestamp: r.timestamp,
        headers: {
          ...r.headers,
          [SOURCE_TOPIC_HEADER]: Buffer.from(src.topic),
          [SOURCE_PARTITION_HEADER]: Buffer.from(String(src.partition)),
          [SOURCE_OFFSET_HEADER]: Buffer.from(src.offset),
          ...(src.key !== null ? { [SOURCE_KEY_HEADER]: Buffer.from(src.key) } : {}),
        },
      };
      ctx.emit(opts.output, out);
    },
  };
}

/** The cluster of a key shaped `<cluster>/...`. */
export function clusterOfKey(r: LogRecord): string | null {
  const k = r.key?.toString('utf8');
  if (!k) return null;
  const i = k.indexOf('/');
  return i > 0 ? k.slice(0, i) : k;
}
