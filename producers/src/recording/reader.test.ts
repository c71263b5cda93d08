import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseRecordingTs,
  readRecording,
  readRecordingStream,
  readRecordingStreamBatches,
} from './reader.ts';
import type { RecordingItem } from './reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-recording-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readText(text: string, options = {}): Promise<RecordingItem[]> {
  const items: RecordingItem[] = [];
  for await (const item of readRecordingStream([Buffer.from(text, 'utf8')], options)) items.push(item);
  return items;
}

const pod = (name: string, owner: { kind: string; name: string } | null, hash?: string): string =>
  JSON.stringify({
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      resourceVersion: '10',
      creationTimestamp: '2026-11-26T07:00:00Z',
      ...(hash === undefined ? {} : { labels: { app: 'x', 'pod-template-hash': hash } }),
      ...(owner === null
        ? {}
        : { ownerReferences: [{ apiVersion: 'apps/v1', ...owner, uid: 'u', controller: true }] }),
    },
    spec: {},
    status: { phase: 'Running' },
  });
const rs = (name: string, deployment: string | null): string =>
  JSON.stringify({
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      resourceVersion: '11',
      ...(deployment === null
        ? {}
        : {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: 'd', controller: true },
            ],
          }),
    },
  });
const watch = (ts: string, object: string, type = 'ADDED'): string =>
  `{"ts":"${ts}","cluster":"demo","kind":"watch","type":"${type}","object":${object}}`;
const log = (ts: string, podName: string, line = 'hello'): string =>
  `{"ts":"${ts}","cluster":"demo","kind":"log","namespace":"shop","pod":"${podName}","container":"c","line":"${line}"}`;

describe('readRecordingStream', () => {
  it('dead-letters each bad line with its line number and reason, and goes on', async () => {
    const text = [
      watch('2026-11-26T08:00:00.000Z', pod('p1', null)),
      '{"ts":"2026-11-26T08:00:01.000Z","cluster":"demo",',
      '{"ts":"2026-11-26T08:00:01.000Z","cluster":"demo","kind":"trace","span":"x"}',
      '{"ts":"2026-11-26T08:00:02.000Z","cluster":"demo","kind":"metric","name":"cpu_usage_cores","labels":{}}',
      '',
      '{"ts":"2026-11-26T08:00:03.000Z","cluster":"demo","kind":"metric","name":"coredns_cache_hit_ratio","labels":{},"value":0.9}',
      '{"ts":"yesterday","cluster":"demo","kind":"log"}',
      '[1,2]',
      '{"cluster":"demo","ts":"2026-11-26T08:00:04.000Z"}',
    ].join('\n');
    const items = await readText(text, { source: 'r.jsonl' });
    expect(items.map((i) => (i.kind === 'dead-letter' ? [i.line, i.reasonCode] : [i.line, i.topic]))).toEqual(
      [
        [1, 'hetu.raw.kube'],
        [2, 'HETU_RECORDING_INVALID_JSON'],
        [3, 'HETU_RECORDING_UNKNOWN_KIND'],
        [4, 'HETU_RECORDING_MISSING_FIELD'],
        [6, 'hetu.raw.metrics'],
        [7, 'HETU_RECORDING_MISSING_FIELD'],
        [8, 'HETU_RECORDING_INVALID_JSON'],
        [9, 'HETU_RECORDING_MISSING_FIELD'],
      ],
    );
    const dead = items.filter((i) => i.kind === 'dead-letter');
    expect(dead.map((d) => d.message)).toEqual([
      'Line 2 of r.jsonl is not valid JSON (Expected double-quoted property name in JSON at position 50 (line 1 column 51)); fix or remove the line, it was skipped.',
      'Line 3 of r.jsonl has kind "trace", which is not watch, metric or log; correct the kind or remove the line, it was skipped.',
      'Line 4 of r.jsonl lacks a valid `value` (a number, or "NaN", "+Inf", "-Inf"); add it or remove the line, it was skipped.',
      'Line 7 of r.jsonl lacks a valid `ts` (an RFC 3339 time such as 2026-11-26T08:00:00.000Z); add it or remove the line, it was skipped.',
      'Line 8 of r.jsonl is JSON but not an object; each line must be one observation object, it was skipped.',
      'Line 9 of r.jsonl lacks a valid `kind` (one of watch, metric, log); add it or remove the line, it was skipped.',
    ]);
    const d4 = dead[2];
    expect(d4?.ts).toBe(Date.parse('2026-11-26T08:00:02.000Z'));
    expect(d4?.raw.toString('utf8')).toBe(
      '{"ts":"2026-11-26T08:00:02.000Z","cluster":"demo","kind":"metric","name":"cpu_usage_cores","labels":{}}',
    );
    expect(dead[0]?.ts).toBeUndefined();
  });

  it('lets a line exactly 5 s behind the newest ts through, and dead-letters one 5.001 s behind', async () => {
    const text = [
      log('2026-11-26T08:00:10.000Z', 'p'),
      log('2026-11-26T08:00:05.000Z', 'p'),
      log('2026-11-26T08:00:04.999Z', 'p'),
      log('2026-11-26T08:00:06.000Z', 'p'),
    ].join('\r\n');
    const items = await readText(text);
    expect(items.map((i) => (i.kind === 'dead-letter' ? i.reasonCode : i.value.ts))).toEqual([
      Date.parse('2026-11-26T08:00:10.000Z'),
      Date.parse('2026-11-26T08:00:05.000Z'),
      'HETU_RECORDING_LATE',
      Date.parse('2026-11-26T08:00:06.000Z'),
    ]);
    const late = items[2];
    expect(late?.kind === 'dead-letter' ? [late.line, late.ts, late.message] : undefined).toEqual([
      3,
      Date.parse('2026-11-26T08:00:04.999Z'),
      'Line 3 of the recording has ts 2026-11-26T08:00:04.999Z, 5.001 s older than the newest ts 2026-11-26T08:00:10.000Z already read (more than 5 s late); sort the recording by ts to keep it, it was skipped.',
    ]);
  });

  it('keeps the watch object as its exact JSON text and fills the record fields', async () => {
    const object =
      '{ "kind" : "Node", "apiVersion":"v1",\t"metadata":{"name":"n\\u0031","uid":"u1","resourceVersion":"7","x":[1,{"y":"}]"}]} }';
    const items = await readText(
      `{"ts":"2026-11-26T08:00:00Z","kind":"watch","cluster":"demo","object":${object},"type":"MODIFIED"}`,
    );
    expect(items).toEqual([
      {
        kind: 'observation',
        line: 1,
        topic: 'hetu.raw.kube',
        key: 'demo/Node/n1',
        value: {
          ts: Date.parse('2026-11-26T08:00:00Z'),
          cluster: 'demo',
          type: 'MODIFIED',
          apiVersion: 'v1',
          kind: 'Node',
          namespace: null,
          name: 'n1',
          uid: 'u1',
          resourceVersion: '7',
          detail: null,
          object,
        },
      },
    ]);
  });

  it('resolves a Deployment pod by names before its ReplicaSet is seen, and by the owner chain after', async () => {
    const text = [
      // Pod of Deployment api, its ReplicaSet not seen yet: inferred from pod-template-hash.
      watch(
        '2026-11-26T08:00:00.000Z',
        pod('api-7d9f8c6b5-x2kqp', { kind: 'ReplicaSet', name: 'api-7d9f8c6b5' }, '7d9f8c6b5'),
      ),
      log('2026-11-26T08:00:01.000Z', 'api-7d9f8c6b5-x2kqp'),
      // A pod whose ReplicaSet looks like a Deployment's but turns out to be a bare ReplicaSet.
      watch(
        '2026-11-26T08:00:02.000Z',
        pod('legacy-5c8d7f9b4-abcde', { kind: 'ReplicaSet', name: 'legacy-5c8d7f9b4' }, '5c8d7f9b4'),
      ),
      log('2026-11-26T08:00:03.000Z', 'legacy-5c8d7f9b4-abcde'),
      watch('2026-11-26T08:00:04.000Z', rs('legacy-5c8d7f9b4', null)),
      log('2026-11-26T08:00:05.000Z', 'legacy-5c8d7f9b4-abcde'),
      // ReplicaSet first, owned by Deployment web; its pod has no hash label.
      watch('2026-11-26T08:00:06.000Z', rs('web-66f4', 'web')),
      watch('2026-11-26T08:00:07.000Z', pod('web-66f4-zzzzz', { kind: 'ReplicaSet', name: 'web-66f4' })),
      log('2026-11-26T08:00:08.000Z', 'web-66f4-zzzzz'),
      // Unknown pod; a bare pod; an Event about a pod.
      log('2026-11-26T08:00:09.000Z', 'ghost'),
      watch('2026-11-26T08:00:10.000Z', pod('debug', null)),
      log('2026-11-26T08:00:11.000Z', 'debug'),
      watch(
        '2026-11-26T08:00:12.000Z',
        JSON.stringify({
          kind: 'Event',
          apiVersion: 'v1',
          metadata: { name: 'web-66f4-zzzzz.1', namespace: 'shop', uid: 'e1', resourceVersion: '12' },
          involvedObject: {
            kind: 'Pod',
            namespace: 'shop',
            name: 'web-66f4-zzzzz',
            uid: 'uid-web-66f4-zzzzz',
            apiVersion: 'v1',
          },
          reason: 'BackOff',
        }),
      ),
    ].join('\n');
    const items = await readText(text);
    const summary = items.map((i) =>
      i.kind === 'dead-letter'
        ? i.reasonCode
        : i.topic === 'hetu.raw.logs'
          ? [i.key, i.value.workloadKind, i.value.workload]
          : i.topic === 'hetu.raw.kube'
            ? [i.key, i.value.kind]
            : i.key,
    );
    expect(summary).toEqual([
      ['demo/shop/api', 'Pod'],
      ['demo/shop/api', 'Deployment', 'api'],
      ['demo/shop/legacy', 'Pod'],
      ['demo/shop/legacy', 'Deployment', 'legacy'],
      ['demo/shop/legacy-5c8d7f9b4', 'ReplicaSet'],
      ['demo/shop/legacy-5c8d7f9b4', 'ReplicaSet', 'legacy-5c8d7f9b4'],
      ['demo/shop/web', 'ReplicaSet'],
      ['demo/shop/web', 'Pod'],
      ['demo/shop/web', 'Deployment', 'web'],
      ['demo/shop/ghost', null, null],
      ['demo/shop/debug', 'Pod'],
      ['demo/shop/debug', 'Pod', 'debug'],
      ['demo/shop/web', 'Event'],
    ]);
  });

  it('forgets the oldest pod beyond the cap', async () => {
    const text = [
      watch('2026-11-26T08:00:00.000Z', pod('a', { kind: 'StatefulSet', name: 'db' })),
      watch('2026-11-26T08:00:01.000Z', pod('b', { kind: 'StatefulSet', name: 'db' })),
      log('2026-11-26T08:00:02.000Z', 'a'),
      log('2026-11-26T08:00:02.000Z', 'b'),
    ].join('\n');
    const items = await readText(text, { maxPods: 1 });
    expect(
      items
        .slice(2)
        .map((i) => (i.kind === 'observation' && i.topic === 'hetu.raw.logs' ? i.value.workload : '?')),
    ).toEqual([null, 'db']);
  });

  it('keys metric samples by their subject and reads NaN and infinities', async () => {
    const m = (labels: string, value = '1'): string =>
      `{"ts":"2026-11-26T08:00:00.000Z","cluster":"demo","kind":"metric","name":"x","labels":${labels},"value":${value}}`;
    const items = await readText(
      [
        m('{"namespace":"shop","pod":"p","container":"c"}'),
        m('{"namespace":"shop","service":"api"}'),
        m('{"namespace":"payments","persistentvolumeclaim":"data-db-0"}'),
        m('{"node":"node-2"}'),
        m('{}', '"NaN"'),
        m('{}', '"-Inf"'),
      ].join('\n'),
    );
    expect(
      items.map((i) =>
        i.kind === 'observation' && i.topic === 'hetu.raw.metrics' ? [i.key, i.value.value] : '?',
      ),
    ).toEqual([
      ['demo/shop/p', 1],
      ['demo/shop/api', 1],
      ['demo/payments/data-db-0', 1],
      ['demo/node/node-2', 1],
      ['demo', Number.NaN],
      ['demo', Number.NEGATIVE_INFINITY],
    ]);
  });

  it('dead-letters a line longer than maxLineBytes without holding it whole', async () => {
    const long = log('2026-11-26T08:00:00.000Z', 'p', 'x'.repeat(200));
    const chunks = [
      Buffer.from(long.slice(0, 50)),
      Buffer.from(long.slice(50)),
      Buffer.from(`\n${log('2026-11-26T08:00:01.000Z', 'p')}\n`),
    ];
    const items: RecordingItem[] = [];
    for await (const i of readRecordingStream(chunks, { maxLineBytes: 150 })) items.push(i);
    expect(
      items.map((i) =>
        i.kind === 'dead-letter' ? [i.line, i.reasonCode, i.raw.length, i.message] : [i.line, i.topic],
      ),
    ).toEqual([
      [
        1,
        'HETU_RECORDING_INVALID_JSON',
        150,
        'Line 1 of the recording is longer than 150 bytes (only its first 150 bytes are kept here); split or remove the line, it was skipped.',
      ],
      [2, 'hetu.raw.logs'],
    ]);
  });
});

describe('readRecordingStreamBatches', () => {
  it('gives the items of readRecordingStream, in order, a chunk of input at a time', async () => {
    const lines = [
      watch('2026-11-26T08:00:00.000Z', pod('api-1', null)),
      log('2026-11-26T08:00:01.000Z', 'api-1'),
      'oops',
      '',
      log('2026-11-26T08:00:01.000Z', 'api-1', 'second'),
      log('2026-11-26T07:00:00.000Z', 'api-1', 'an hour late'),
    ];
    const text = lines.join('\n');
    // Chunks that cut lines anywhere, and a last line without a line break.
    const chunks = [text.slice(0, 7), text.slice(7, 300), text.slice(300, 301), text.slice(301)].map((c) =>
      Buffer.from(c),
    );
    const one: RecordingItem[] = [];
    for await (const i of readRecordingStream(chunks)) one.push(i);
    const batches: RecordingItem[][] = [];
    for await (const b of readRecordingStreamBatches(chunks)) batches.push(b);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.every((b) => b.length > 0)).toBe(true);
    expect(batches.flat()).toEqual(one);
    expect(one.map((i) => (i.kind === 'dead-letter' ? i.reasonCode : i.topic))).toEqual([
      'hetu.raw.kube',
      'hetu.raw.logs',
      'HETU_RECORDING_INVALID_JSON',
      'hetu.raw.logs',
      'HETU_RECORDING_LATE',
    ]);
  });
});

describe('parseRecordingTs', () => {
  it('parses each text alike whether or not it repeats the one before', () => {
    const texts = [
      '2026-11-26T08:00:00.000Z',
      '2026-11-26T08:00:00.000Z',
      '2026-11-26T09:00:00+01:00',
      'not a time',
      '2026-11-26T08:00:00.000Z',
      '2026-13-45T08:00:00Z',
      '2026-13-45T08:00:00Z',
      42,
    ];
    expect(texts.map((t) => parseRecordingTs(t))).toEqual([
      Date.UTC(2026, 10, 26, 8),
      Date.UTC(2026, 10, 26, 8),
      Date.UTC(2026, 10, 26, 8),
      undefined,
      Date.UTC(2026, 10, 26, 8),
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('readRecording', () => {
  const text = `${[
    watch(
      '2026-11-26T08:00:00.000Z',
      pod('api-7d9f8c6b5-x2kqp', { kind: 'ReplicaSet', name: 'api-7d9f8c6b5' }, '7d9f8c6b5'),
    ),
    log('2026-11-26T08:00:01.000Z', 'api-7d9f8c6b5-x2kqp', 'Ünïcode ✓'),
    'oops',
  ].join('\n')}\n`;

  it('reads a gzip file (detected by its magic bytes) like the plain one, reporting progress', async () => {
    const plain = join(dir, 'r.jsonl');
    const gz = join(dir, 'r.jsonl.gz');
    writeFileSync(plain, text);
    writeFileSync(gz, gzipSync(Buffer.from(text)));
    const read = async (
      path: string,
    ): Promise<{ items: RecordingItem[]; progress: [number, number | undefined][] }> => {
      const progress: [number, number | undefined][] = [];
      const items: RecordingItem[] = [];
      for await (const i of readRecording(path, { onProgress: (r, t) => progress.push([r, t]) }))
        items.push(i);
      return { items, progress };
    };
    const a = await read(plain);
    const b = await read(gz);
    expect(a.items.map((i) => (i.kind === 'dead-letter' ? i.reasonCode : i.key))).toEqual([
      'demo/shop/api',
      'demo/shop/api',
      'HETU_RECORDING_INVALID_JSON',
    ]);
    const second = a.items.at(1);
    expect(second?.kind === 'observation' && second.topic === 'hetu.raw.logs' ? second.value.line : '').toBe(
      'Ünïcode ✓',
    );
    const strip = (items: RecordingItem[]): unknown =>
      items.map((i) =>
        i.kind === 'dead-letter' ? { ...i, message: i.message.replace(/ of \S+ /, ' of F ') } : i,
      );
    expect(strip(b.items)).toEqual(strip(a.items));
    expect(a.progress.at(-1)).toEqual([statSync(plain).size, statSync(plain).size]);
    expect(b.progress.at(-1)).toEqual([statSync(gz).size, statSync(gz).size]);
    const dead = b.items[2];
    expect(dead?.kind === 'dead-letter' ? dead.message : '').toBe(
      `Line 3 of ${gz} is not valid JSON (Unexpected token 'o', "oops" is not valid JSON); fix or remove the line, it was skipped.`,
    );
  });
});
