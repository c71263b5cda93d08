// Subscription push latency (issue E, "Bench"): from appending one observation (a log line with a
// new error, and the next line of its container) to the raw topic, until a GraphQL subscriber receives the new error group over its
// WebSocket — through the `errors` stage, the fact topic, the projections and the API, all running
// live in this process on a fresh embedded log (`hetu start`'s shape, without the demo).
// Count: HETU_BENCH_PUSH_COUNT (default 50), one at a time. Figures only: nothing is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogLineObserved } from '@hetu/schemas';
import { openBackend } from '../cli/src/backend.ts';
import { parseGlobalConfig } from '../cli/src/config.ts';
import { startLivePipeline } from './live.ts';
import { loads, quantile, word } from './util.ts';

const CLUSTER = 'bench';
const NAMESPACE = 'push';

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const count = Number(process.env.HETU_BENCH_PUSH_COUNT ?? 50);
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-push-'));
  const backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
  print(`load average before: ${loads()}`);
  try {
    const live = await startLivePipeline(backend, NAMESPACE, print);
    try {
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const token = `Fault${word(i)}`;
        const arrived = live.arrival(token);
        const line: LogLineObserved = {
          ts: Date.now(),
          cluster: CLUSTER,
          namespace: NAMESPACE,
          pod: 'api-7d9f8c6b5-x2k4q',
          container: 'api',
          line: `2026-11-26 08:00:00 ERROR Unhandled com.bench.${token}Exception: the ${word(i)} step failed`,
          truncated: false,
          gap: false,
          workload: 'api',
          workloadKind: 'Deployment',
        };
        // The errors stage holds a line until a later one of its task shows no stack trace follows
        // (stitching, by event time): on a busy cluster that line is there; here one INFO line
        // 5 s later in event time, appended with it, stands for it.
        const next: LogLineObserved = { ...line, ts: line.ts + 5000, line: '2026-11-26 08:00:05 INFO ok' };
        const key = Buffer.from(`${CLUSTER}/${NAMESPACE}/api`);
        const records = [
          {
            key,
            value: await backend.serde.encode('hetu.raw.logs', 'LogLineObserved', line),
            timestamp: line.ts,
          },
          {
            key,
            value: await backend.serde.encode('hetu.raw.logs', 'LogLineObserved', next),
            timestamp: next.ts,
          },
        ];
        const sent = performance.now();
        await backend.log.append('hetu.raw.logs', records);
        const at = await Promise.race([
          arrived,
          new Promise<number>((_, reject) =>
            setTimeout(() => reject(new Error(`no push for ${token} within 60 s`)), 60_000),
          ),
        ]);
        latencies.push(at - sent);
      }
      latencies.sort((a, b) => a - b);
      const figures = {
        pushes: latencies.length,
        p50Ms: Math.round(quantile(latencies, 0.5) * 10) / 10,
        p99Ms: Math.round(quantile(latencies, 0.99) * 10) / 10,
        maxMs: Math.round((latencies.at(-1) ?? NaN) * 10) / 10,
      };
      print(
        `observation appended → error group pushed to a graphql-ws subscriber (${figures.pushes} new errors, one at a time):`,
      );
      print(`  p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms`);
      print(`load average after: ${loads()}`);
      return figures;
    } finally {
      await live.close();
    }
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
