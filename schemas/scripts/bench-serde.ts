/**
 * Prints decode throughput of the serde (cached writer→reader resolver) next to the registry
 * client library's own decode, with and without its `readerSchema` option, on the embedded
 * registry. Not a test: it prints numbers.
 *
 *   node schemas/scripts/bench-serde.ts [records]     (default 20 000)
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startEmbeddedRegistry } from '../src/embedded-registry.ts';
import type { WatchObserved } from '../src/generated/WatchObserved.ts';
import { recordSchemaText } from '../src/records.ts';
import { createRegistryClient } from '../src/registry-client.ts';
import { createMemorySchemaStore } from '../src/schema-store.ts';
import { createSerde } from '../src/serde.ts';

const count = Number(process.argv[2] ?? 20_000);
const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
try {
  const serde = createSerde(createRegistryClient({ url: registry.url }));
  const object = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'api-7d9f-x2', namespace: 'shop' },
  });
  const values: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const value: WatchObserved = {
      ts: 1_795_680_000_000 + i,
      cluster: 'demo',
      type: 'MODIFIED',
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'shop',
      name: `api-${i}`,
      uid: `uid-${i}`,
      resourceVersion: String(i),
      detail: null,
      object,
    };
    values.push(await serde.encode('hetu.raw.kube', 'WatchObserved', value));
  }

  const time = async (label: string, decode: (b: Buffer) => Promise<unknown>): Promise<number> => {
    await decode(values[0] as Buffer); // warm the caches
    const t0 = process.hrtime.bigint();
    for (const b of values) await decode(b);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rate = count / seconds;
    process.stdout.write(
      `${label.padEnd(48)} ${Math.round(rate).toLocaleString('en-US').padStart(10)} records/s\n`,
    );
    return rate;
  };

  const client = new SchemaRegistry({ host: registry.url });
  const reader = { type: SchemaType.AVRO, schema: recordSchemaText('WatchObserved') };
  process.stdout.write(`decode ${count} WatchObserved values (${values[0]?.length ?? 0} bytes each)\n`);
  const ours = await time('serde.decode (cached resolver)', (b) => serde.decode(b, 'WatchObserved'));
  await time('client.decode (writer schema)', (b) => client.decode(b));
  const options = {
    [SchemaType.AVRO]: { readerSchema: JSON.parse(reader.schema) as unknown },
  } as Parameters<SchemaRegistry['decode']>[1];
  const theirs = await time('client.decode with readerSchema option', (b) => client.decode(b, options));
  process.stdout.write(`ratio serde / client-with-readerSchema: ${(ours / theirs).toFixed(1)}x\n`);
} finally {
  await registry.close();
}
