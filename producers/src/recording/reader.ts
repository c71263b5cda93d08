/**
 * Streaming reader of a recording (SPEC §1.1): JSON Lines, plain or gzip (detected by its magic
 * bytes, whatever the file is called). Yields, per non-blank line and in order, either the record
 * the observation becomes on its raw topic, with its partition key, or a dead letter with the
 * line number and a stable reason code. See docs/recording.md.
 *
 * Memory is bounded: lines are split as bytes arrive (a line longer than `maxLineBytes` is
 * dead-lettered without being held whole), and the only state is the newest `ts` and the owner
 * maps that resolve a pod's workload (pods, ReplicaSets, Jobs), each capped (oldest written first
 * out).
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { LogLineObserved, MetricSampled, WatchEventType, WatchObserved } from '@hetu/schemas';
// The brief of issue C asks the recording reader to resolve workloads exactly as the health
// processor does, so it reuses the processor's pure owner-chain function instead of a copy.
import { workloadOf } from '@hetu/processors/health';
import type { KubePod, OwnerLookups, OwnerRef } from '@hetu/processors/health';
import { topLevelValueText } from './json-span.ts';

export const RECORDING_DEAD_LETTER_CODES = [
  'HETU_RECORDING_INVALID_JSON',
  'HETU_RECORDING_UNKNOWN_KIND',
  'HETU_RECORDING_MISSING_FIELD',
  'HETU_RECORDING_LATE',
] as const;
export type RecordingDeadLetterCode = (typeof RECORDING_DEAD_LETTER_CODES)[number];

/** A line older than the newest `ts` seen by more than this is late (SPEC §1.1). */
export const LATE_TOLERANCE_MS = 5_000;
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_PODS = 100_000;
export const DEFAULT_MAX_OWNERS = 100_000;

export interface KubeRecordingItem {
  kind: 'observation';
  line: number;
  topic: 'hetu.raw.kube';
  key: string;
  value: WatchObserved;
}
export interface MetricRecordingItem {
  kind: 'observation';
  line: number;
  topic: 'hetu.raw.metrics';
  key: string;
  value: MetricSampled;
}
export interface LogRecordingItem {
  kind: 'observation';
  line: number;
  topic: 'hetu.raw.logs';
  key: string;
  value: LogLineObserved;
}
export type RecordingObservationItem = KubeRecordingItem | MetricRecordingItem | LogRecordingItem;

export interface RecordingDeadLetter {
  kind: 'dead-letter';
  /** 1-based line number in the (decompressed) recording. */
  line: number;
  reasonCode: RecordingDeadLetterCode;
  /** One sentence: what is wrong, on which line, and what to do. */
  message: string;
  /** The line's original bytes, without the line break. */
  raw: Buffer;
  /** The line's `ts` in epoch milliseconds, when it could be read. */
  ts?: number;
}

export type RecordingItem = RecordingObservationItem | RecordingDeadLetter;

export interface RecordingReaderOptions {
  /** Named in dead-letter messages (e.g. the file path); default `the recording`. */
  source?: string;
  /** Lines longer than this are dead-lettered as invalid JSON; default 16 MiB. */
  maxLineBytes?: number;
  /** Cap of the pod map (pod → owner); default 100 000. */
  maxPods?: number;
  /** Cap of each of the ReplicaSet and Job owner maps; default 100 000. */
  maxOwners?: number;
  /** Called as input bytes are consumed (of the file as stored, so compressed bytes for gzip). */
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
}

const WATCH_TYPES: readonly WatchEventType[] = ['ADDED', 'MODIFIED', 'DELETED', 'SYNCED'];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** The last time `parseRecordingTs` parsed. */
const lastTs: { text: string | undefined; ms: number } = { text: undefined, ms: 0 };

/** Parses an RFC 3339 time (`2026-11-26T08:00:00.000Z`) to epoch ms; undefined if it is not one. */
export function parseRecordingTs(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  // Consecutive lines mostly share their time (a scrape's samples): parse each text once.
  if (text === lastTs.text) return lastTs.ms;
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  lastTs.text = text;
  lastTs.ms = ms;
  return ms;
}

/** A Map used as a bounded cache: re-setting a key moves it to the end; the oldest goes first. */
class CappedMap<V> {
  private readonly map = new Map<string, V>();
  private readonly cap: number;
  constructor(cap: number) {
    this.cap = cap;
  }
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.cap) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
  }
  get size(): number {
    return this.map.size;
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The controlling owner reference of an object, else its first one. */
function ownerOf(meta: Json): OwnerRef | null {
  const refs = meta['ownerReferences'];
  if (!Array.isArray(refs)) return null;
  const all = refs.filter(
    (r): r is OwnerRef => isObject(r) && typeof r['kind'] === 'string' && typeof r['name'] === 'string',
  );
  const ref = all.find((r) => r.controller === true) ?? all[0];
  return ref === undefined ? null : { kind: ref.kind, name: ref.name, controller: ref.controller === true };
}

/**
 * The decoder behind the reader: one line in, one item out, with the state (newest ts, owner
 * maps) carried between calls. Usable directly on lines held in memory.
 */
export class RecordingDecoder {
  private newestTs: number | undefined;
  private readonly pods: CappedMap<KubePod>;
  private readonly replicaSets: CappedMap<OwnerRef | null>;
  private readonly jobs: CappedMap<OwnerRef | null>;
  private readonly source: string;
  private readonly lookups: OwnerLookups;

  constructor(options: RecordingReaderOptions = {}) {
    this.source = options.source ?? 'the recording';
    this.pods = new CappedMap(options.maxPods ?? DEFAULT_MAX_PODS);
    this.replicaSets = new CappedMap(options.maxOwners ?? DEFAULT_MAX_OWNERS);
    this.jobs = new CappedMap(options.maxOwners ?? DEFAULT_MAX_OWNERS);
    this.lookups = {
      replicaSetOwner: (ns, name) => this.replicaSets.get(`${ns}/${name}`),
      jobOwner: (ns, name) => this.jobs.get(`${ns}/${name}`),
    };
  }

  /** Sizes of the owner maps (pods, ReplicaSets, Jobs), for tests and status. */
  stateSizes(): { pods: number; replicaSets: number; jobs: number } {
    return { pods: this.pods.size, replicaSets: this.replicaSets.size, jobs: this.jobs.size };
  }

  /** Decodes one line (without its line break); undefined for a blank line. */
  decode(raw: Buffer, line: number): RecordingItem | undefined {
    const text = raw.toString('utf8');
    if (text.trim() === '') return undefined;
    const where = `Line ${line} of ${this.source}`;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return dead(
        line,
        raw,
        'HETU_RECORDING_INVALID_JSON',
        `${where} is not valid JSON (${why}); fix or remove the line, it was skipped.`,
      );
    }
    if (!isObject(doc)) {
      return dead(
        line,
        raw,
        'HETU_RECORDING_INVALID_JSON',
        `${where} is JSON but not an object; each line must be one observation object, it was skipped.`,
      );
    }
    const missing = (field: string, what: string, ts?: number): RecordingDeadLetter =>
      dead(
        line,
        raw,
        'HETU_RECORDING_MISSING_FIELD',
        `${where} lacks a valid \`${field}\` (${what}); add it or remove the line, it was skipped.`,
        ts,
      );

    const kind = doc['kind'];
    if (typeof kind !== 'string') return missing('kind', 'one of watch, metric, log');
    if (kind !== 'watch' && kind !== 'metric' && kind !== 'log') {
      return dead(
        line,
        raw,
        'HETU_RECORDING_UNKNOWN_KIND',
        `${where} has kind ${JSON.stringify(kind)}, which is not watch, metric or log; correct the kind or remove the line, it was skipped.`,
      );
    }
    const ts = parseRecordingTs(doc['ts']);
    if (ts === undefined) return missing('ts', 'an RFC 3339 time such as 2026-11-26T08:00:00.000Z');
    const cluster = str(doc['cluster']);
    if (cluster === undefined || cluster === '') return missing('cluster', 'a non-empty string', ts);

    let item: RecordingObservationItem | RecordingDeadLetter;
    if (kind === 'watch') item = this.watch(doc, text, line, ts, cluster, missing);
    else if (kind === 'metric') item = metric(doc, line, ts, cluster, missing);
    else item = this.log(doc, line, ts, cluster, missing);
    if (item.kind === 'dead-letter') return item;

    if (this.newestTs !== undefined && ts < this.newestTs - LATE_TOLERANCE_MS) {
      const behind = (this.newestTs - ts) / 1000;
      return dead(
        line,
        raw,
        'HETU_RECORDING_LATE',
        `${where} has ts ${new Date(ts).toISOString()}, ${behind} s older than the newest ts ${new Date(this.newestTs).toISOString()} already read (more than ${LATE_TOLERANCE_MS / 1000} s late); sort the recording by ts to keep it, it was skipped.`,
        ts,
      );
    }
    if (this.newestTs === undefined || ts > this.newestTs) this.newestTs = ts;
    if (item.topic === 'hetu.raw.kube') this.remember(item.value, doc['object'] as Json);
    return item;
  }

  private watch(
    doc: Json,
    text: string,
    line: number,
    ts: number,
    cluster: string,
    missing: (field: string, what: string, ts?: number) => RecordingDeadLetter,
  ): KubeRecordingItem | RecordingDeadLetter {
    const type = doc['type'];
    if (typeof type !== 'string' || !(WATCH_TYPES as readonly string[]).includes(type)) {
      return missing('type', 'ADDED, MODIFIED, DELETED or SYNCED', ts);
    }
    const object = doc['object'];
    if (!isObject(object)) return missing('object', 'the Kubernetes object as the API served it', ts);
    const apiVersion = str(object['apiVersion']);
    if (apiVersion === undefined) return missing('object.apiVersion', 'a string', ts);
    const objKind = str(object['kind']);
    if (objKind === undefined) return missing('object.kind', 'a string', ts);
    const meta = object['metadata'];
    if (!isObject(meta)) return missing('object.metadata', 'an object', ts);
    const name = str(meta['name']);
    if (name === undefined || name === '') return missing('object.metadata.name', 'a non-empty string', ts);
    const namespace = str(meta['namespace']) ?? null;
    const objectText = topLevelValueText(text, 'object') ?? JSON.stringify(object);
    const value: WatchObserved = {
      ts,
      cluster,
      type: type as WatchEventType,
      apiVersion,
      kind: objKind,
      namespace,
      name,
      uid: str(meta['uid']) ?? null,
      resourceVersion: str(meta['resourceVersion']) ?? null,
      detail: null,
      object: objectText,
    };
    return {
      kind: 'observation',
      line,
      topic: 'hetu.raw.kube',
      key: this.kubeKey(cluster, objKind, namespace, name, object, meta),
      value,
    };
  }

  /** `<cluster>/<namespace>/<workload>` for namespaced objects, `<cluster>/<Kind>/<name>` else. */
  private kubeKey(
    cluster: string,
    kind: string,
    namespace: string | null,
    name: string,
    object: Json,
    meta: Json,
  ): string {
    if (namespace === null) return `${cluster}/${kind}/${name}`;
    if (kind === 'Pod')
      return `${cluster}/${namespace}/${this.podWorkload(namespace, name, podOf(meta, namespace, name))?.name ?? name}`;
    if (kind === 'ReplicaSet' || kind === 'Job')
      return `${cluster}/${namespace}/${ownerOf(meta)?.name ?? name}`;
    if (kind === 'Event') {
      const inv = object['involvedObject'];
      if (isObject(inv)) {
        const invKind = str(inv['kind']) ?? '';
        const invName = str(inv['name']) ?? name;
        const invNs = str(inv['namespace']);
        if (invNs === undefined || invNs === '') return `${cluster}/${invKind}/${invName}`;
        return `${cluster}/${invNs}/${this.workloadName(invKind, invNs, invName)}`;
      }
    }
    return `${cluster}/${namespace}/${name}`;
  }

  /** The workload of an object named by an Event's involvedObject, as far as it is known. */
  private workloadName(kind: string, namespace: string, name: string): string {
    if (kind === 'Pod') return this.podWorkload(namespace, name)?.name ?? name;
    if (kind === 'ReplicaSet') return this.replicaSets.get(`${namespace}/${name}`)?.name ?? name;
    if (kind === 'Job') return this.jobs.get(`${namespace}/${name}`)?.name ?? name;
    return name;
  }

  private podWorkload(
    namespace: string,
    name: string,
    pod?: KubePod,
  ): { kind: string; name: string } | undefined {
    const p = pod ?? this.pods.get(`${namespace}/${name}`);
    if (p === undefined) return undefined;
    const w = workloadOf(p, this.lookups);
    return { kind: w.kind, name: w.name };
  }

  private remember(value: WatchObserved, object: Json): void {
    if (value.namespace === null || value.name === null) return;
    if (value.kind !== 'Pod' && value.kind !== 'ReplicaSet' && value.kind !== 'Job') return;
    const meta = object['metadata'] as Json;
    const id = `${value.namespace}/${value.name}`;
    if (value.kind === 'Pod') this.pods.set(id, podOf(meta, value.namespace, value.name));
    else if (value.kind === 'ReplicaSet') this.replicaSets.set(id, ownerOf(meta));
    else this.jobs.set(id, ownerOf(meta));
  }

  private log(
    doc: Json,
    line: number,
    ts: number,
    cluster: string,
    missing: (field: string, what: string, ts?: number) => RecordingDeadLetter,
  ): LogRecordingItem | RecordingDeadLetter {
    const namespace = str(doc['namespace']);
    if (namespace === undefined || namespace === '') return missing('namespace', 'a non-empty string', ts);
    const pod = str(doc['pod']);
    if (pod === undefined || pod === '') return missing('pod', 'a non-empty string', ts);
    const container = str(doc['container']);
    if (container === undefined || container === '') return missing('container', 'a non-empty string', ts);
    const text = str(doc['line']);
    if (text === undefined) return missing('line', 'a string', ts);
    const truncated = doc['truncated'] ?? false;
    if (typeof truncated !== 'boolean') return missing('truncated', 'true or false when present', ts);
    const gap = doc['gap'] ?? false;
    if (typeof gap !== 'boolean') return missing('gap', 'true or false when present', ts);
    const w = this.podWorkload(namespace, pod);
    const value: LogLineObserved = {
      ts,
      cluster,
      namespace,
      pod,
      container,
      line: text,
      truncated,
      gap,
      workload: w?.name ?? null,
      workloadKind: w?.kind ?? null,
    };
    return {
      kind: 'observation',
      line,
      topic: 'hetu.raw.logs',
      key: `${cluster}/${namespace}/${w?.name ?? pod}`,
      value,
    };
  }
}

/** The minimal pod the owner chain needs (name, namespace, hash label, owner, creation). */
function podOf(meta: Json, namespace: string, name: string): KubePod {
  const labels = isObject(meta['labels']) ? meta['labels'] : {};
  const hash = str(labels['pod-template-hash']);
  const owner = ownerOf(meta);
  return {
    metadata: {
      name,
      namespace,
      creationTimestamp: str(meta['creationTimestamp']) ?? null,
      ...(hash === undefined ? {} : { labels: { 'pod-template-hash': hash } }),
      ...(owner === null ? {} : { ownerReferences: [owner] }),
    },
  } as KubePod;
}

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  '+Inf': Number.POSITIVE_INFINITY,
  Inf: Number.POSITIVE_INFINITY,
  Infinity: Number.POSITIVE_INFINITY,
  '-Inf': Number.NEGATIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

function metric(
  doc: Json,
  line: number,
  ts: number,
  cluster: string,
  missing: (field: string, what: string, ts?: number) => RecordingDeadLetter,
): MetricRecordingItem | RecordingDeadLetter {
  const name = str(doc['name']);
  if (name === undefined || name === '') return missing('name', 'a metric name such as cpu_usage_cores', ts);
  const labelsIn = doc['labels'];
  if (!isObject(labelsIn) || !Object.values(labelsIn).every((v) => typeof v === 'string')) {
    return missing('labels', 'an object of string values, {} when the metric has none', ts);
  }
  const labels = labelsIn as Record<string, string>;
  const raw = doc['value'];
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? NON_FINITE[raw] : undefined;
  if (value === undefined) return missing('value', 'a number, or "NaN", "+Inf", "-Inf"', ts);
  const sample: MetricSampled = { ts, cluster, name, labels, value };
  return {
    kind: 'observation',
    line,
    topic: 'hetu.raw.metrics',
    key: metricKey(cluster, labels),
    value: sample,
  };
}

/** The series' subject (docs/schemas.md, `hetu.raw.metrics`). */
export function metricKey(cluster: string, labels: Readonly<Record<string, string>>): string {
  const ns = labels['namespace'];
  if (ns !== undefined) {
    const subject = labels['pod'] ?? labels['service'] ?? labels['persistentvolumeclaim'];
    return subject === undefined ? `${cluster}/${ns}` : `${cluster}/${ns}/${subject}`;
  }
  const node = labels['node'];
  if (node !== undefined) return `${cluster}/node/${node}`;
  return cluster;
}

function dead(
  line: number,
  raw: Buffer,
  reasonCode: RecordingDeadLetterCode,
  message: string,
  ts?: number,
): RecordingDeadLetter {
  return ts === undefined
    ? { kind: 'dead-letter', line, reasonCode, message, raw }
    : { kind: 'dead-letter', line, reasonCode, message, raw, ts };
}

/**
 * Reads a recording from a byte stream (plain or gzip, detected by the first two bytes), one item
 * per non-blank line, in order.
 */
export async function* readRecordingStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: RecordingReaderOptions = {},
): AsyncGenerator<RecordingItem> {
  for await (const items of readRecordingStreamBatches(input, options)) yield* items;
}

/**
 * `readRecordingStream` a chunk of input at a time: the items of the lines each chunk completes,
 * in order (a chunk may complete none). One promise per chunk instead of one per line, for
 * `hetu analyze`'s ingest.
 */
export async function* readRecordingStreamBatches(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: RecordingReaderOptions = {},
): AsyncGenerator<RecordingItem[]> {
  const decoder = new RecordingDecoder(options);
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let parts: Buffer[] = [];
  let partsLen = 0;
  let overflow = false;
  let lineNo = 0;
  const where = options.source ?? 'the recording';

  const finish = (): RecordingItem | undefined => {
    lineNo++;
    let raw = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, partsLen);
    parts = [];
    partsLen = 0;
    if (raw.length > 0 && raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, raw.length - 1);
    if (overflow) {
      overflow = false;
      return dead(
        lineNo,
        raw,
        'HETU_RECORDING_INVALID_JSON',
        `Line ${lineNo} of ${where} is longer than ${maxLine} bytes (only its first ${maxLine} bytes are kept here); split or remove the line, it was skipped.`,
      );
    }
    return decoder.decode(raw, lineNo);
  };
  const add = (piece: Buffer): void => {
    if (overflow) return;
    if (partsLen + piece.length > maxLine) {
      piece = piece.subarray(0, maxLine - partsLen);
      overflow = true;
    }
    if (piece.length > 0) {
      parts.push(piece);
      partsLen += piece.length;
    }
  };

  for await (const chunk of await maybeGunzip(input)) {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    const items: RecordingItem[] = [];
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl === -1) {
        add(buf.subarray(start));
        break;
      }
      add(buf.subarray(start, nl));
      const item = finish();
      if (item !== undefined) items.push(item);
      start = nl + 1;
    }
    if (items.length > 0) yield items;
  }
  if (partsLen > 0 || overflow) {
    const item = finish();
    if (item !== undefined) yield [item];
  }
}

/** Passes the bytes through, or through gunzip when they start with the gzip magic 1f 8b. */
async function maybeGunzip(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<AsyncIterable<Uint8Array>> {
  const it = (async function* () {
    for await (const chunk of input) yield chunk;
  })();
  let first = await it.next();
  while (first.done !== true && first.value.length === 0) first = await it.next();
  if (first.done === true) return (async function* () {})();
  const head = first.value;
  const rest = (async function* () {
    yield head;
    for (;;) {
      const n = await it.next();
      if (n.done === true) return;
      yield n.value;
    }
  })();
  // A single first byte 0x1f is treated as plain text (no gzip stream is that short).
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)
    return Readable.from(rest).pipe(createGunzip());
  return rest;
}

/**
 * Reads the recording file at `path` (plain or gzip). `onProgress` gets the bytes of the file
 * consumed so far and its size.
 */
export async function* readRecording(
  path: string,
  options: RecordingReaderOptions = {},
): AsyncGenerator<RecordingItem> {
  for await (const items of readRecordingBatches(path, options)) yield* items;
}

/** `readRecording` a chunk of the file at a time (`readRecordingStreamBatches`). */
export async function* readRecordingBatches(
  path: string,
  options: RecordingReaderOptions = {},
): AsyncGenerator<RecordingItem[]> {
  const handle = await open(path, 'r');
  try {
    const total = (await handle.stat()).size;
    const stream = handle.createReadStream({ autoClose: false, highWaterMark: 256 * 1024 });
    const onProgress = options.onProgress;
    const counted = (async function* () {
      let read = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        read += chunk.length;
        onProgress?.(read, total);
        yield chunk;
      }
    })();
    yield* readRecordingStreamBatches(counted, { source: path, ...options });
  } finally {
    await handle.close();
  }
}
