// The GraphQL API under load (issue E, "Bench"): p50/p99 latency of the overview query at a fixed
// arrival rate, over HTTP to a listening server, with the facts of the demo recording projected.
// Rate and length: HETU_BENCH_API_RPS (default 100) and HETU_BENCH_API_SECONDS (default 30).
// The facts: of a generated cluster of HETU_BENCH_API_PODS pods (default 10 000; issue E's size)
// and HETU_BENCH_API_OBS observations (default 200 000), or of the demo with HETU_BENCH_API_PODS=0.
// Run alone: `node bench/api.bench.ts`, or `npm run bench -- api`.
//
// The load is an open loop in this process: request i is sent at t0 + i ÷ rate whatever the
// answers before it, so a slow answer does not hide the queue behind it. Two latencies are given:
// from the actual send, and from the scheduled send (the latter includes any lag of the loop).
// Figures only: nothing about time is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Projections } from '@hetu/projections';
import { writeScaleRecording } from '@hetu/producers/recording';
import { openBackend } from '../cli/src/backend.ts';
import { parseGlobalConfig } from '../cli/src/config.ts';
import { analyzeOn } from '../cli/src/commands/analyze.ts';
import { benchApi } from './live.ts';

const DEMO = fileURLToPath(new URL('../demo/demo.jsonl.gz', import.meta.url));

/** The dashboard's first screen. */
export const OVERVIEW_QUERY = `query Overview {
  overview {
    cluster
    score { overall level reliability security cost architecture noData healthy ts
      change(since: "2026-11-26T09:00:00Z") { delta }
      dimensions { dimension score points } }
    namespaces { scope overall level }
    openIncidents criticalIncidents openErrorGroups spikingErrorGroups activeAnomalies openRecommendations monthlySavings
    freshness { caughtUp lag lastEventTime }
  }
}`;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name}=${raw} is not a number above 0.`);
    process.exit(2);
  }
  return n;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const ms = (n: number) => `${n.toFixed(2)} ms`;

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const rate = envNumber('HETU_BENCH_API_RPS', 100);
  const seconds = envNumber('HETU_BENCH_API_SECONDS', 30);
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-api-'));
  const backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
  try {
    let t = performance.now();
    const pods = process.env.HETU_BENCH_API_PODS === '0' ? 0 : envNumber('HETU_BENCH_API_PODS', 10_000);
    let recording = DEMO;
    if (pods > 0) {
      recording = join(dir, 'scale.jsonl.gz');
      const stats = await writeScaleRecording(recording, {
        pods,
        observations: envNumber('HETU_BENCH_API_OBS', 200_000),
      });
      print(
        `recording: ${stats.observations} observations of a ${pods}-pod cluster over ${((stats.lastTs - stats.firstTs) / 60_000).toFixed(1)} min, generated in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
      t = performance.now();
    }
    const { summary } = await analyzeOn(backend, recording);
    print(
      `${pods > 0 ? 'generated' : 'demo'} recording analysed: ${summary.observations} observations in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    t = performance.now();
    const projections = await Projections.start({ log: backend.log, serde: backend.serde });
    await projections.whenCaughtUp(600_000);
    const fresh = await projections.freshness();
    const applied = fresh.projections.reduce((a, p) => a + p.recordsApplied, 0);
    print(
      `projections caught up: ${applied} records in ${((performance.now() - t) / 1000).toFixed(2)} s (in-memory SQLite)`,
    );
    const api = await benchApi(backend, projections);
    try {
      const base = await api.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `${base}/graphql`;
      const body = JSON.stringify({ query: OVERVIEW_QUERY });
      const send = async (): Promise<void> => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const json = (await res.json()) as { errors?: unknown[] };
        if (res.status !== 200 || json.errors)
          throw new Error(`overview failed: ${res.status} ${JSON.stringify(json)}`);
      };
      for (let i = 0; i < 50; i++) await send(); // warm-up (graphql-jit compiles after 20 runs)

      const total = Math.round(rate * seconds);
      const fromSend: number[] = [];
      const fromSchedule: number[] = [];
      let failed = 0;
      const t0 = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = t0 + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const sent = performance.now();
        inflight.push(
          send().then(
            () => {
              const end = performance.now();
              fromSend.push(end - sent);
              fromSchedule.push(end - due);
            },
            () => {
              failed++;
            },
          ),
        );
      }
      await Promise.all(inflight);
      const elapsed = (performance.now() - t0) / 1000;
      fromSend.sort((a, b) => a - b);
      fromSchedule.sort((a, b) => a - b);
      const figures = {
        rate,
        seconds,
        requests: total,
        failed,
        achievedRps: Math.round((fromSend.length / elapsed) * 10) / 10,
        p50Ms: quantile(fromSend, 0.5),
        p99Ms: quantile(fromSend, 0.99),
        maxMs: fromSend[fromSend.length - 1] ?? NaN,
        p50ScheduledMs: quantile(fromSchedule, 0.5),
        p99ScheduledMs: quantile(fromSchedule, 0.99),
      };
      print(
        `overview query at ${rate} req/s for ${seconds} s over HTTP (${total} requests, ${failed} failed):`,
      );
      print(`  achieved ${figures.achievedRps} req/s`);
      print(
        `  latency from send:     p50 ${ms(figures.p50Ms)}, p99 ${ms(figures.p99Ms)}, max ${ms(figures.maxMs)}`,
      );
      print(`  latency from schedule: p50 ${ms(figures.p50ScheduledMs)}, p99 ${ms(figures.p99ScheduledMs)}`);
      print(
        `  resolver calls ${api.stats.resolverCalls}, store calls ${api.stats.storeCalls()}; load average ${loadavg()[0]!.toFixed(2)}`,
      );
      return figures;
    } finally {
      await api.close();
      await projections.close();
    }
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bench((line) => console.log(line));
}
