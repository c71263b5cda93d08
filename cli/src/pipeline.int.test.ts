import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { LogLineObserved, MetricSampled } from '@hetu/schemas';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { startPipeline } from './pipeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-26T08:00:00.000Z');

async function readTable(
  backend: Backend,
  topic: string,
  cluster: string,
  record: 'ErrorGroup' | 'AnomalyEpisode',
) {
  const out = new Map<string, Record<string, unknown>>();
  const [info] = await backend.log.describeTopics([topic]);
  for (const p of info!.partitions) {
    for (const r of await backend.log.read(topic, p.partition)) {
      const key = r.key!.toString();
      if (r.value === null) {
        out.delete(key);
        continue;
      }
      const v = (await backend.serde.decode(r.value, record)) as unknown as Record<string, unknown>;
      if (v.cluster === cluster) out.set(key, v);
    }
  }
  return [...out.values()];
}

for (const mode of ['embedded', 'kafka'] as const) {
  describe(`the processors on the ${mode} log, with the schema registry`, () => {
    it('turn raw log lines into error-group facts and metric samples into anomaly facts; bad input goes to the DLQ', async () => {
      const cfg = parseGlobalConfig(
        mode === 'embedded'
          ? { dataDir: join(dir, 'data') }
          : { kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') },
        {},
      );
      const backend = await openBackend(cfg);
      const cluster = `c-${randomUUID().slice(0, 8)}`;
      const pipeline = await startPipeline(backend);
      try {
        const line = (i: number, ms: number, text: string, pod = 'api-7d9f8c6b5-x2k4q'): LogLineObserved => ({
          ts: T0 + ms,
          cluster,
          namespace: 'shop',
          pod,
          container: 'api',
          line: text,
          truncated: false,
          gap: false,
          workload: 'api',
          workloadKind: 'Deployment',
        });
        const lines: LogLineObserved[] = [];
        for (let i = 0; i < 5; i++) {
          const ms = i * 10_000;
          lines.push(
            line(
              i,
              ms,
              `2026-11-26 08:00:0${i} ERROR Exception in thread "main" java.lang.IllegalStateException: pool exhausted after ${100 + i} ms`,
            ),
          );
          lines.push(line(i, ms + 1, '\tat com.shop.db.Pool.acquire(Pool.java:88)'));
          lines.push(line(i, ms + 2, '\tat com.shop.api.Orders.create(Orders.java:41)'));
          lines.push(
            line(
              i,
              ms + 3,
              JSON.stringify({
                level: 'error',
                msg: `payment for order ${4711 + i} failed`,
                status: 503,
                path: '/payments',
              }),
            ),
          );
          lines.push(line(i, ms + 4, `2026-11-26 08:00:0${i} INFO served GET /orders/${i} in 12ms`));
        }
        lines.push(line(9, 120_000, '2026-11-26 08:02:00 INFO tick')); // moves event time past the last trace
        const key = Buffer.from(`${cluster}/shop/api`);
        await backend.log.append(
          'hetu.raw.logs',
          await Promise.all(
            lines.map(async (l) => ({
              key,
              value: await backend.serde.encode('hetu.raw.logs', 'LogLineObserved', l),
              timestamp: l.ts,
            })),
          ),
        );
        // Not Avro: dead-lettered with its bytes and reason, and the fold goes on.
        await backend.log.append('hetu.raw.logs', [
          { key, value: Buffer.from('not avro'), timestamp: T0 + 121_000 },
        ]);

        const metric = (i: number, value: number): MetricSampled => ({
          ts: T0 + i * 30_000,
          cluster,
          name: 'cpu_usage_cores',
          labels: { namespace: 'shop', pod: 'api-7d9f8c6b5-x2k4q', container: 'api' },
          value,
        });
        const samples = Array.from({ length: 120 }, (_, i) =>
          metric(i, i === 100 ? 4 : 0.4 + ((i * 7) % 5) * 0.01),
        );
        const mkey = Buffer.from(`${cluster}/shop/api-7d9f8c6b5-x2k4q`);
        await backend.log.append(
          'hetu.raw.metrics',
          await Promise.all(
            samples.map(async (m) => ({
              key: mkey,
              value: await backend.serde.encode('hetu.raw.metrics', 'MetricSampled', m),
              timestamp: m.ts,
            })),
          ),
        );

        await pipeline.whenCaughtUp(120_000);

        const groups = await readTable(backend, 'hetu.facts.error-groups', cluster, 'ErrorGroup');
        const summary = groups
          .map((g) => [
            g.reason,
            g.exceptionType,
            g.level,
            String(g.count),
            g.workload,
            g.namespace,
            g.status,
          ])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
        expect(summary).toEqual([
          ['exception.java', 'java.lang.IllegalStateException', 'error', '5', 'api', 'shop', 'open'],
          ['http.5xx', null, 'error', '5', 'api', 'shop', 'open'],
        ]);

        const dlq = await backend.log.read('hetu.dlq', 0);
        const dead = await Promise.all(dlq.map((r) => backend.serde.decode(r.value!, 'DeadLetter')));
        const mine = dead.filter((d) => d.key?.toString() === `${cluster}/shop/api`);
        expect(mine).toHaveLength(1);
        expect(mine[0]).toMatchObject({
          processor: 'errors',
          reasonCode: 'HETU_SERDE_BAD_MAGIC',
          sourceTopic: 'hetu.raw.logs',
        });
        expect(mine[0]!.value!.toString()).toBe('not avro');

        const episodes = await readTable(backend, 'hetu.facts.anomalies', cluster, 'AnomalyEpisode');
        expect(episodes).toHaveLength(1);
        expect(episodes[0]).toMatchObject({ metric: 'cpu_usage_cores', openedAt: T0 + 100 * 30_000 });
      } finally {
        await pipeline.close();
        await backend.close();
      }
    });
  });
}
