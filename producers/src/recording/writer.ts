/**
 * Writes observations as recording lines (SPEC §1.1), for `hetu record` and the demo generator.
 * Every line has a fixed key order, so the same observations always give the same bytes:
 * `ts, cluster, kind`, then for `watch` `type, object`; for `metric` `name, labels` (labels
 * sorted by name) `, value`; for `log` `namespace, pod, container, line` and `truncated` / `gap`
 * only when true. A watch object given as JSON text is written verbatim (as the API served it).
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { HetuError } from '@hetu/streams';

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'SYNCED';

/** `ts`: epoch milliseconds, written as RFC 3339 UTC with milliseconds. */
export interface WatchObservation {
  ts: number;
  cluster: string;
  kind: 'watch';
  type: WatchType;
  /** The object: JSON text exactly as served (written verbatim), or a value (written in its own key order). */
  object: string | Readonly<Record<string, unknown>>;
}
export interface MetricObservation {
  ts: number;
  cluster: string;
  kind: 'metric';
  name: string;
  labels: Readonly<Record<string, string>>;
  /** NaN and ±Infinity are written as the strings "NaN", "+Inf", "-Inf". */
  value: number;
}
export interface LogObservation {
  ts: number;
  cluster: string;
  kind: 'log';
  namespace: string;
  pod: string;
  container: string;
  line: string;
  truncated?: boolean;
  gap?: boolean;
}
export type Observation = WatchObservation | MetricObservation | LogObservation;

const q = JSON.stringify;

function tsText(ts: number): string {
  if (!Number.isFinite(ts)) {
    throw new HetuError(
      'HETU_RECORDING_BAD_OBSERVATION',
      `Observation ts ${ts} is not a time; pass epoch milliseconds.`,
    );
  }
  return new Date(ts).toISOString();
}

function metricValue(v: number): string {
  if (Number.isNaN(v)) return '"NaN"';
  if (v === Number.POSITIVE_INFINITY) return '"+Inf"';
  if (v === Number.NEGATIVE_INFINITY) return '"-Inf"';
  return q(v);
}

/** One recording line for the observation, without the line break. */
export function formatObservation(obs: Observation): string {
  const head = `{"ts":${q(tsText(obs.ts))},"cluster":${q(obs.cluster)},"kind":${q(obs.kind)}`;
  switch (obs.kind) {
    case 'watch': {
      let object: string;
      if (typeof obs.object === 'string') {
        object = obs.object;
        if (/[\n\r]/.test(object)) {
          // JSON text may be pretty-printed; a recording line may not span lines.
          object = JSON.stringify(JSON.parse(object));
        }
      } else object = q(obs.object);
      return `${head},"type":${q(obs.type)},"object":${object}}`;
    }
    case 'metric': {
      const names = Object.keys(obs.labels).sort();
      const labels = names.map((k) => `${q(k)}:${q(obs.labels[k])}`).join(',');
      return `${head},"name":${q(obs.name)},"labels":{${labels}},"value":${metricValue(obs.value)}}`;
    }
    case 'log': {
      let s = `${head},"namespace":${q(obs.namespace)},"pod":${q(obs.pod)},"container":${q(obs.container)},"line":${q(obs.line)}`;
      if (obs.truncated === true) s += ',"truncated":true';
      if (obs.gap === true) s += ',"gap":true';
      return `${s}}`;
    }
  }
}

export interface RecordingWriter {
  write(obs: Observation): Promise<void>;
  /** Flushes and closes the destination. */
  close(): Promise<void>;
}

/**
 * A writer onto a stream (or a file path; gzip when `gzip` is true or the path ends in `.gz`).
 * `write` waits for the destination to drain when its buffer is full (back-pressure).
 */
export function createRecordingWriter(
  dest: Writable | string,
  options: { gzip?: boolean } = {},
): RecordingWriter {
  const file = typeof dest === 'string' ? createWriteStream(dest) : undefined;
  const sink: Writable = file ?? (dest as Writable);
  const gzip = options.gzip ?? (typeof dest === 'string' && dest.endsWith('.gz'));
  const gz = gzip ? createGzip() : undefined;
  if (gz !== undefined) gz.pipe(sink);
  const out: Writable = gz ?? sink;
  return {
    async write(obs) {
      if (!out.write(`${formatObservation(obs)}\n`)) await once(out, 'drain');
    },
    async close() {
      const finished = once(sink, 'finish');
      if (gz !== undefined) gz.end();
      else out.end();
      await finished;
    },
  };
}
