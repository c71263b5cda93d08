import type { AppendRecord, LogRecord, ProcessorDefinition } from '@hetu/streams';
import { utf8Text } from '@hetu/schemas';

/** Headers a re-keyed record carries: where it came from, so evidence keeps its real position. */
export const SOURCE_TOPIC_HEADER = 'hetu-source-topic';
export const SOURCE_PARTITION_HEADER = 'hetu-source-partition';
export const SOURCE_OFFSET_HEADER = 'hetu-source-offset';
export const SOURCE_KEY_HEADER = 'hetu-source-key';

/** Source topic names by their bytes: a feed names the same few topics on every record. */
const topicNames: { bytes: Buffer; text: string }[] = [];

/** `b.toString('utf8')`, decoded once per distinct topic name. */
function topicText(b: Buffer): string {
  for (const t of topicNames) {
    const c = t.bytes;
    if (c.length !== b.length) continue;
    let i = 0;
    while (i < c.length && c[i] === b[i]) i++;
    if (i === c.length) return t.text;
  }
  const text = b.toString('utf8');
  if (topicNames.length < 64) topicNames.push({ bytes: Buffer.from(b), text });
  return text;
}

/** The number of a header of 1 to 15 ASCII digits, without a leading zero (or just "0"); else null. */
function digits(b: Buffer): number | null {
  const n = b.length;
  if (n === 0 || n > 15 || (n > 1 && b[0] === 0x30)) return null;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return v;
}

/** `b.toString('utf8')` for a header `digits` reads (the number's own decimal text). */
function digitText(b: Buffer): string | null {
  const v = digits(b);
  return v === null ? null : String(v);
}

/**
 * UTF-8 bytes of a text that repeats on every record (a cluster name, a source topic, a partition
 * number), encoded once: the buffers are shared by the records written, which only read them.
 */
const textBuffers = new Map<string, Buffer>();
export function textBytes(text: string): Buffer {
  let b = textBuffers.get(text);
  if (b === undefined) {
    b = Buffer.from(text);
    if (textBuffers.size < 1024) textBuffers.set(text, b);
  }
  return b;
}

/** The topic `sourceOf` gives, without the rest of the position. */
export function sourceTopicOf(r: LogRecord): string {
  const topic = r.headers[SOURCE_TOPIC_HEADER];
  return topic ? topicText(topic) : r.topic;
}

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
    const partition = h[SOURCE_PARTITION_HEADER];
    const offset = h[SOURCE_OFFSET_HEADER];
    const keyHeader = h[SOURCE_KEY_HEADER];
    return {
      topic: topicText(topic),
      partition: partition === undefined ? 0 : (digits(partition) ?? Number(partition.toString('utf8'))),
      offset: offset === undefined ? '0' : (digitText(offset) ?? offset.toString('utf8')),
      key: keyHeader === undefined ? null : utf8Text(keyHeader),
    };
  }
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset.toString(),
    key: r.key ? utf8Text(r.key) : null,
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
    // A scrape's samples of one cluster come with one time: one record of the log per run.
    bundled: [opts.output],
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
        key: textBytes(key),
        value: r.value,
        timestamp: r.timestamp,
        headers: {
          ...r.headers,
          [SOURCE_TOPIC_HEADER]: textBytes(src.topic),
          [SOURCE_PARTITION_HEADER]: textBytes(String(src.partition)),
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
  const k = r.key ? utf8Text(r.key) : undefined;
  if (!k) return null;
  const i = k.indexOf('/');
  return i > 0 ? k.slice(0, i) : k;
}
