import {
  createMemorySchemaStore,
  createRegistryClient,
  createSerde,
  startEmbeddedRegistry,
  type EmbeddedRegistry,
} from '@hetu/schemas';
import { bundleRecords, type LogRecord } from '@hetu/streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable } from './records.ts';

describe('printable (hetu tail, hetu dump)', () => {
  let registry: EmbeddedRegistry;
  beforeAll(async () => {
    registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
  });
  afterAll(() => registry.close());

  it("prints a bundle's records, each decoded with its headers, and one it cannot read as base64 with why", async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const sample = (pod: string, value: number) =>
      serde.encode('hetu.raw.metrics', 'MetricSampled', {
        ts: 1000,
        cluster: 'c',
        name: 'cpu_usage_cores',
        labels: { namespace: 'shop', pod },
        value,
      });
    const [bundle] = bundleRecords([
      {
        key: Buffer.from('c'),
        value: await sample('a', 0.5),
        timestamp: 1000,
        headers: { off: Buffer.from('1') },
      },
      {
        key: Buffer.from('c'),
        value: await sample('b', 0.25),
        timestamp: 1000,
        headers: { off: Buffer.from('2') },
      },
    ]);
    const read: LogRecord = {
      topic: 'hetu.internal.cluster-feed',
      partition: 0,
      offset: 7n,
      key: bundle!.key,
      value: bundle!.value,
      timestamp: 1000,
      headers: bundle!.headers!,
    };
    const printed = await printable(serde, read);
    expect(printed.headers).toEqual({ 'hetu-bundle': '1' });
    const { $bundle } = printed.value as {
      $bundle: { value: { labels: { pod: string } }; headers: object }[];
    };
    expect($bundle.map((b) => [b.value.labels.pod, b.headers])).toEqual([
      ['a', { off: '1' }],
      ['b', { off: '2' }],
    ]);
    const broken = await printable(serde, { ...read, value: read.value!.subarray(0, 6) });
    expect(broken.value).toEqual({
      $base64: read.value!.subarray(0, 6).toString('base64'),
      error: expect.stringMatching(/hetu.internal.cluster-feed\/0\/7 is a bundle .* cannot be read/),
    });
  });
});
