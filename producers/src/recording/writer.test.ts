import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecording } from './reader.ts';
import { createRecordingWriter, formatObservation } from './writer.ts';
import type { Observation } from './writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ts = Date.parse('2026-11-26T08:00:00.000Z');
const observations: Observation[] = [
  {
    kind: 'watch',
    type: 'ADDED',
    cluster: 'demo',
    ts,
    object: '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"shop"}}',
  },
  {
    value: 0.42,
    labels: { pod: 'api-1', namespace: 'shop', container: 'api' },
    name: 'cpu_usage_cores',
    kind: 'metric',
    cluster: 'demo',
    ts: ts + 30_000,
  },
  {
    line: 'boom "quoted"',
    container: 'api',
    pod: 'api-1',
    namespace: 'shop',
    kind: 'log',
    cluster: 'demo',
    ts: ts + 31_250,
    truncated: true,
    gap: false,
  },
  {
    kind: 'metric',
    cluster: 'demo',
    ts: ts + 60_000,
    name: 'x',
    labels: {},
    value: Number.POSITIVE_INFINITY,
  },
];

describe('formatObservation', () => {
  it('writes a fixed key order whatever the input order', () => {
    expect(observations.map(formatObservation)).toEqual([
      '{"ts":"2026-11-26T08:00:00.000Z","cluster":"demo","kind":"watch","type":"ADDED","object":{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"shop"}}}',
      '{"ts":"2026-11-26T08:00:30.000Z","cluster":"demo","kind":"metric","name":"cpu_usage_cores","labels":{"container":"api","namespace":"shop","pod":"api-1"},"value":0.42}',
      '{"ts":"2026-11-26T08:00:31.250Z","cluster":"demo","kind":"log","namespace":"shop","pod":"api-1","container":"api","line":"boom \\"quoted\\"","truncated":true}',
      '{"ts":"2026-11-26T08:01:00.000Z","cluster":"demo","kind":"metric","name":"x","labels":{},"value":"+Inf"}',
    ]);
  });

  it('puts a pretty-printed object on one line', () => {
    const line = formatObservation({
      kind: 'watch',
      type: 'DELETED',
      cluster: 'c',
      ts,
      object: '{\n  "kind": "Node"\n}',
    });
    expect(line).toBe(
      '{"ts":"2026-11-26T08:00:00.000Z","cluster":"c","kind":"watch","type":"DELETED","object":{"kind":"Node"}}',
    );
  });
});

describe('createRecordingWriter', () => {
  it('writes a gzip file that reads back as the same observations', async () => {
    const path = join(dir, 'out.jsonl.gz');
    const w = createRecordingWriter(path);
    for (const o of observations) await w.write(o);
    await w.close();
    const text = gunzipSync(readFileSync(path)).toString('utf8');
    expect(text).toBe(`${observations.map(formatObservation).join('\n')}\n`);
    const back: unknown[] = [];
    for await (const i of readRecording(path))
      back.push(i.kind === 'dead-letter' ? i.reasonCode : [i.topic, i.key, i.value.ts]);
    expect(back).toEqual([
      ['hetu.raw.kube', 'demo/Namespace/shop', ts],
      ['hetu.raw.metrics', 'demo/shop/api-1', ts + 30_000],
      ['hetu.raw.logs', 'demo/shop/api-1', ts + 31_250],
      ['hetu.raw.metrics', 'demo', ts + 60_000],
    ]);
  });
});
