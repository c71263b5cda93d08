import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRegistryClient, createSerde, startEmbeddedRegistry } from '@hetu/schemas';
import { EmbeddedLog } from './embedded/embedded-log.ts';
import { logSchemaStore } from './schema-log-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-schemas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the embedded registry on the log', () => {
  it('keeps ids consistent between two processes sharing a data directory (hetu load beside hetu start)', async () => {
    // Two clients of one data directory, as two processes would be: both registries start first.
    const logA = new EmbeddedLog({ dataDir: dir });
    const logB = new EmbeddedLog({ dataDir: dir });
    const regA = await startEmbeddedRegistry({ store: await logSchemaStore(logA) });
    const regB = await startEmbeddedRegistry({ store: await logSchemaStore(logB) });
    try {
      const serdeA = createSerde(createRegistryClient({ url: regA.url }));
      const serdeB = createSerde(createRegistryClient({ url: regB.url }));
      const metric = { ts: 1_000, cluster: 'c', name: 'cpu_usage_cores', labels: {}, value: 0.5 };
      const a = await serdeA.encode('hetu.raw.metrics', 'MetricSampled', metric);
      // B registers another schema after A: it must not reuse A's id, and must read A's values.
      const cmd = { id: 'x', ts: 2_000, issuer: 'test', type: 'noop', targetIds: [], payload: '{}' };
      const b = await serdeB.encode('hetu.commands', 'Command', cmd);
      expect(b.readInt32BE(1)).not.toBe(a.readInt32BE(1));
      expect({ ...(await serdeB.decode(a, 'MetricSampled')) }).toEqual(metric);
      expect({ ...(await serdeA.decode(b, 'Command')) }).toEqual(cmd);
    } finally {
      await regA.close();
      await regB.close();
      await logA.close();
      await logB.close();
    }
    // A restart reads the same store back without complaint.
    const log = new EmbeddedLog({ dataDir: dir });
    const reg = await startEmbeddedRegistry({ store: await logSchemaStore(log) });
    const subjects = (await (await fetch(`${reg.url}/subjects`)).json()) as string[];
    expect(subjects).toEqual(['hetu.commands-value', 'hetu.raw.metrics-value']);
    await reg.close();
    await log.close();
  });

  it('gives two schemas registered at the same moment by two writers of one store different ids', async () => {
    const shared = join(dir, 'race');
    const logA = new EmbeddedLog({ dataDir: shared });
    const logB = new EmbeddedLog({ dataDir: shared });
    // B reads the store, picks the next id, and its write waits until A has registered with the
    // same id: the store then holds A's entry first, and B's claims an id A took.
    const storeB = await logSchemaStore(logB);
    let bWriting!: () => void;
    const bWrites = new Promise<void>((r) => (bWriting = r));
    let releaseB!: () => void;
    const gate = new Promise<void>((r) => (releaseB = r));
    let held = false;
    const regA = await startEmbeddedRegistry({ store: await logSchemaStore(logA) });
    const regB = await startEmbeddedRegistry({
      store: {
        ...storeB,
        append: async (entry) => {
          if (!held && entry.kind === 'schema') {
            held = true;
            bWriting();
            await gate;
          }
          await storeB.append(entry);
        },
      },
    });
    const metric = { ts: 1_000, cluster: 'c', name: 'cpu_usage_cores', labels: {}, value: 0.5 };
    const cmd = { id: 'x', ts: 2_000, issuer: 'test', type: 'noop', targetIds: [], payload: '{}' };
    try {
      const serdeA = createSerde(createRegistryClient({ url: regA.url }));
      const serdeB = createSerde(createRegistryClient({ url: regB.url }));
      const b = serdeB.encode('hetu.commands', 'Command', cmd);
      await bWrites;
      const a = await serdeA.encode('hetu.raw.metrics', 'MetricSampled', metric);
      releaseB();
      const bBytes = await b;
      expect(bBytes.readInt32BE(1)).not.toBe(a.readInt32BE(1));
      expect({ ...(await serdeB.decode(a, 'MetricSampled')) }).toEqual(metric);
      expect({ ...(await serdeA.decode(bBytes, 'Command')) }).toEqual(cmd);
      // A third reader of the store, started afterwards, resolves both ids the same way.
      const logC = new EmbeddedLog({ dataDir: shared });
      const regC = await startEmbeddedRegistry({ store: await logSchemaStore(logC) });
      try {
        const serdeC = createSerde(createRegistryClient({ url: regC.url }));
        expect({ ...(await serdeC.decode(a, 'MetricSampled')) }).toEqual(metric);
        expect({ ...(await serdeC.decode(bBytes, 'Command')) }).toEqual(cmd);
        // The store holds B's lost entry too: three schema entries for two schemas.
        const stored = (await logC.read('_schemas', 0)).map((r) => r.key!.toString());
        expect(stored.filter((k) => k.startsWith('schema/')).sort()).toEqual([
          'schema/hetu.commands-value/1',
          'schema/hetu.commands-value/1',
          'schema/hetu.raw.metrics-value/1',
        ]);
      } finally {
        await regC.close();
        await logC.close();
      }
    } finally {
      await regA.close();
      await regB.close();
      await logA.close();
      await logB.close();
    }
  });
});
