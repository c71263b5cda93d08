/**
 * Fault suite, item 3 (issue I; results in docs/reliability.md): poison records among good ones are
 * dead-lettered with their reasons while every good record is folded; a schema-registry outage
 * dead-letters nothing and the lag drains once the registry is back. Real Kafka and Apicurio (the
 * int global setup), the embedded log with its embedded registry, and a TCP relay in front of
 * Apicurio that the test cuts and restores (connections refused, like a registry that is down).
 *
 * Sizes: 10 000 records with 100 poison in both modes; the outage lasts HETU_FAULT_OUTAGE_S
 * seconds (10 in `npm test`, 60 with `npm run test:faults`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { frame, MAX_VALUE_BYTES, type LogLineObserved } from '@hetu/schemas';
import type { AppendRecord } from '@hetu/streams';
import { parseGlobalConfig } from '../../cli/src/config.ts';
import { createCatalogueTopics, openBackend, type Backend } from '../../cli/src/backend.ts';
import { startPipeline } from '../../cli/src/pipeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-faults-poison-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OUTAGE_S = Number(process.env.HETU_FAULT_OUTAGE_S ?? 10);
const TOTAL = 10_000;
const POISON = 100;
const T0 = Date.parse('2026-11-26T08:00:00.000Z');
const SCHEMA_LINE = 'hetu.raw.logs';

function logLine(cluster: string, i: number, text: string): LogLineObserved {
  return {
    ts: T0 + i * 100,
    cluster,
    namespace: 'shop',
    pod: 'api-7d9f8c6b5-x2k4q',
    container: 'api',
    line: text,
    truncated: false,
    gap: false,
    workload: 'api',
    workloadKind: 'Deployment',
  };
}

const errorText = (i: number) =>
  JSON.stringify({
    level: 'error',
    msg: `payment for order ${4711 + i} failed`,
    status: 503,
    path: '/payments',
  });

type PoisonKind = 'HETU_SERDE_BAD_MAGIC' | 'HETU_SERDE_UNKNOWN_SCHEMA' | 'HETU_SERDE_TRUNCATED' | string;

/**
 * TOTAL records for one workload: every 100th is poison (kinds in turn), the others are error
 * lines, the last one an INFO line that moves event time past the last error.
 */
async function records(
  backend: Backend,
  cluster: string,
  kinds: readonly PoisonKind[],
): Promise<{ records: AppendRecord[]; poison: Map<string, number>; errors: number }> {
  const key = Buffer.from(`${cluster}/shop/api`);
  const out: AppendRecord[] = [];
  const poison = new Map<string, number>();
  let errors = 0;
  for (let i = 0; i < TOTAL; i++) {
    const last = i === TOTAL - 1;
    const l = logLine(cluster, i, last ? '2026-11-26 09:00:00 INFO tick' : errorText(i));
    const good = await backend.serde.encode(SCHEMA_LINE, 'LogLineObserved', l);
    if (kinds.length > 0 && i % (TOTAL / POISON) === 50) {
      const kind = kinds[((i - 50) / (TOTAL / POISON)) % kinds.length]!;
      poison.set(kind, (poison.get(kind) ?? 0) + 1);
      const value =
        kind === 'HETU_SERDE_BAD_MAGIC'
          ? Buffer.concat([Buffer.from([1]), good.subarray(1)])
          : kind === 'HETU_SERDE_UNKNOWN_SCHEMA'
            ? frame(987_654_321, good.subarray(5))
            : kind === 'HETU_SERDE_TRUNCATED'
              ? good.subarray(0, good.length - 3)
              : kind === 'HETU_SERDE_TRAILING_BYTES'
                ? Buffer.concat([good, Buffer.from([0, 0, 0])])
                : frame(good.readInt32BE(1), Buffer.alloc(MAX_VALUE_BYTES + 10, 0x61)); // oversize
      out.push({ key, value, timestamp: l.ts });
      continue;
    }
    if (!last) errors++;
    out.push({ key, value: good, timestamp: l.ts });
  }
  return { records: out, poison, errors };
}

async function deadLetters(backend: Backend, cluster: string) {
  const [info] = await backend.log.describeTopics(['hetu.dlq']);
  const out: { reasonCode: string; processor: string }[] = [];
  for (const p of info!.partitions) {
    for (const r of await backend.log.read('hetu.dlq', p.partition)) {
      const d = await backend.serde.decode(r.value!, 'DeadLetter');
      if (d.key?.toString().startsWith(`${cluster}/`)) out.push(d);
    }
  }
  return out;
}

async function errorCount(backend: Backend, cluster: string): Promise<number> {
  const latest = new Map<string, number>();
  const [info] = await backend.log.describeTopics(['hetu.facts.error-groups']);
  for (const p of info!.partitions) {
    for (const r of await backend.log.read('hetu.facts.error-groups', p.partition)) {
      if (r.value === null) continue;
      const g = await backend.serde.decode(r.value, 'ErrorGroup');
      if (g.cluster === cluster) latest.set(r.key!.toString(), Number(g.count));
    }
  }
  return [...latest.values()].reduce((a, b) => a + b, 0);
}

function countBy<T>(xs: T[], f: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[f(x)] = (out[f(x)] ?? 0) + 1;
  return out;
}

/** A TCP relay to the registry that can refuse connections for a while (an outage). */
async function relay(
  target: URL,
): Promise<{ url: string; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const make = () =>
    net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
  let server = make();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const stop = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      for (const s of sockets) s.destroy();
      sockets.clear();
    });
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    down: stop,
    up: async () => {
      server = make();
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
    close: stop,
  };
}

describe('fault suite: poison records', () => {
  for (const mode of ['embedded', 'kafka'] as const) {
    // Kafka's broker refuses values over its max.message.bytes (1 MiB) at produce time, so an
    // oversize value can only reach a consumer through the embedded log.
    const kinds =
      mode === 'embedded'
        ? ['HETU_SERDE_BAD_MAGIC', 'HETU_SERDE_UNKNOWN_SCHEMA', 'HETU_SERDE_TRUNCATED', 'HETU_SERDE_OVERSIZE']
        : [
            'HETU_SERDE_BAD_MAGIC',
            'HETU_SERDE_UNKNOWN_SCHEMA',
            'HETU_SERDE_TRUNCATED',
            'HETU_SERDE_TRAILING_BYTES',
          ];
    it(`${mode}: ${POISON} poison among ${TOTAL} records → ${POISON} dead letters with reasons, every good record folded`, async () => {
      const cfg = parseGlobalConfig(
        mode === 'embedded'
          ? { dataDir: join(dir, 'poison') }
          : { kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') },
        {},
      );
      const backend = await openBackend(cfg);
      const cluster = `poison-${randomUUID().slice(0, 8)}`;
      const pipeline = await startPipeline(backend);
      try {
        const { records: rs, poison, errors } = await records(backend, cluster, kinds);
        for (let i = 0; i < rs.length; i += 500)
          await backend.log.append('hetu.raw.logs', rs.slice(i, i + 500));
        const started = performance.now();
        await pipeline.whenCaughtUp(300_000);
        const dead = await deadLetters(backend, cluster);
        const folded = await errorCount(backend, cluster);
        console.log(
          `[faults] poison (${mode}): ${rs.length} records, ${dead.length} dead letters ${JSON.stringify(countBy(dead, (d) => d.reasonCode))}, ${folded} error lines folded of ${errors}; caught up in ${Math.round(performance.now() - started)} ms`,
        );
        expect(dead).toHaveLength(POISON);
        expect(countBy(dead, (d) => d.reasonCode)).toEqual(Object.fromEntries(poison));
        expect(new Set(dead.map((d) => d.processor))).toEqual(new Set(['errors']));
        expect(folded).toBe(errors);
        expect(errors + POISON + 1).toBe(TOTAL);
      } finally {
        await pipeline.close();
        await backend.close();
      }
    });
  }

  it(`kafka: a ${OUTAGE_S} s registry outage while a fresh pipeline starts → 0 dead letters, the lag drains after`, async () => {
    const registryUrl = new URL(inject('schemaRegistryUrl'));
    const proxy = await relay(registryUrl);
    const kafka = inject('kafkaBrokers').join(',');
    const cluster = `outage-${randomUUID().slice(0, 8)}`;
    const producer = await openBackend(parseGlobalConfig({ kafka, registry: registryUrl.href }, {}));
    let outageEnded = 0;
    try {
      const { records: rs, errors } = await records(producer, cluster, []);
      // No poison this time: every 100th record is a good one too.
      expect(errors).toBe(TOTAL - 1);
      await createCatalogueTopics(producer.log);
      await producer.log.append('hetu.raw.logs', rs.slice(0, 100)); // topics exist, a little lag
      const backend = await openBackend(parseGlobalConfig({ kafka, registry: proxy.url }, {}));
      try {
        await proxy.down();
        const pipeline = await startPipeline(backend);
        try {
          for (let i = 100; i < rs.length; i += 500)
            await producer.log.append('hetu.raw.logs', rs.slice(i, i + 500));
          await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));
          // The outage bit: without the registry nothing could be decoded, so nothing was folded.
          const duringOutage = await errorCount(producer, cluster);
          await proxy.up();
          outageEnded = performance.now();
          await pipeline.whenCaughtUp(300_000);
          const drained = performance.now() - outageEnded;
          const dead = await deadLetters(producer, cluster);
          const folded = await errorCount(producer, cluster);
          console.log(
            `[faults] registry outage (kafka): ${OUTAGE_S} s down while the pipeline started; ${dead.length} dead letters; ${folded} of ${errors} error lines folded; lag drained ${Math.round(drained)} ms after the registry came back`,
          );
          expect(duringOutage).toBe(0);
          expect(dead).toEqual([]);
          expect(folded).toBe(errors);
        } finally {
          await pipeline.close();
        }
      } finally {
        await backend.close();
      }
    } finally {
      await proxy.close();
      await producer.close();
    }
  });
});
