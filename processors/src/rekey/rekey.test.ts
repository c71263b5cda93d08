import { describe, expect, it } from 'vitest';
import { EmbeddedLog, ProcessorRuntime } from '@hetu/streams';
import { clusterOfKey, rekeyProcessor, sourceOf } from './rekey.ts';

describe('re-key stage', () => {
  it('copies records of several topics under a new key, with their source position in headers', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([
      { name: 'a', partitions: 3, cleanupPolicy: 'compact' },
      { name: 'b', partitions: 3, cleanupPolicy: 'compact' },
      { name: 'feed', partitions: 3, cleanupPolicy: 'delete' },
    ]);
    const [pa] = await log.append('a', [
      { key: Buffer.from('prod/shop/api-1'), value: Buffer.from('x'), timestamp: 10 },
    ]);
    const [pb] = await log.append('b', [{ key: Buffer.from('prod/node-2'), value: null, timestamp: 20 }]);
    await log.append('b', [{ key: Buffer.from(''), value: Buffer.from('dropped'), timestamp: 30 }]);
    const rt = new ProcessorRuntime({
      log,
      processor: rekeyProcessor({
        name: 'feed-by-cluster',
        inputs: ['a', 'b'],
        output: 'feed',
        keyOf: clusterOfKey,
      }),
    });
    await (await rt.start()).whenCaughtUp();
    const all = (await Promise.all([0, 1, 2].map((p) => log.read('feed', p)))).flat();
    // Both land in the partition of key "prod", in one partition, values and tombstones as they were.
    expect(new Set(all.map((r) => r.partition)).size).toBe(1);
    expect(
      all.map((r) => [r.key!.toString(), r.value?.toString() ?? null, r.timestamp, sourceOf(r)]).sort(),
    ).toEqual(
      [
        [
          'prod',
          'x',
          10,
          { topic: 'a', partition: pa!.partition, offset: String(pa!.offset), key: 'prod/shop/api-1' },
        ],
        [
          'prod',
          null,
          20,
          { topic: 'b', partition: pb!.partition, offset: String(pb!.offset), key: 'prod/node-2' },
        ],
      ].sort(),
    );
    await rt.close();
    await log.close();
  });
});

describe('sourceOf', () => {
  const rec = (headers: Record<string, string | Buffer>) => ({
    topic: 'feed',
    partition: 1,
    offset: 7n,
    key: Buffer.from('k'),
    value: null,
    timestamp: 0,
    headers: Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v]),
    ),
  });

  it('reads the headers as their UTF-8 text, whatever their digits or bytes', () => {
    const cases: [string, string][] = [
      ['0', '0'],
      ['2', '48768'],
      ['12', '18839764992'],
      ['007', '0012'],
      ['', ''],
      [' 3', '1e3'],
      ['9007199254740993', '99999999999999999999'],
      ['x', '12a'],
      ['-1', '-0'],
    ];
    for (const topic of [
      'hetu.raw.metrics',
      'hetu.raw.metrics',
      'hetu.facts.pod-health',
      'tø',
      'hetu.raw.metricz',
    ])
      for (const [partition, offset] of cases) {
        const r = rec({
          'hetu-source-topic': topic,
          'hetu-source-partition': partition,
          'hetu-source-offset': offset,
          'hetu-source-key': 'prod/ü',
        });
        expect(sourceOf(r)).toEqual({ topic, partition: Number(partition), offset, key: 'prod/ü' });
      }
    // Without the optional headers; and a record that was not re-keyed.
    expect(sourceOf(rec({ 'hetu-source-topic': 'a' }))).toEqual({
      topic: 'a',
      partition: 0,
      offset: '0',
      key: null,
    });
    expect(sourceOf(rec({}))).toEqual({ topic: 'feed', partition: 1, offset: '7', key: 'k' });
  });
});
