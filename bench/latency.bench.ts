// Collector → subscription latency under load (issue I: "p50/p99 latency from an observation
// entering a collector to a GraphQL subscription push, at 1 000 observations/s"). The real API
// server + kwok (`npm run infra:fetch`) serve the logs of HETU_BENCH_LATENCY_PODS pods (default 10)
// from files this bench appends to; hetu's pod-log collector follows them through the API into a
// fresh embedded log, and the whole pipeline, the projections and the GraphQL API run live in this
// process (`hetu start`'s shape). A background writer appends ordinary lines at
// HETU_BENCH_LATENCY_RATE lines/s (default 1 000) spread over the pods, from a process of its own
// (bench/latency-writer.ts); every 500 ms a probe line
// with a new error goes to one pod's file. Measured: from the probe's write to its file until a
// graphql-ws subscriber to `errorGroupChanged` receives the new group. HETU_BENCH_LATENCY_PROBES
// probes (default 60). The stages are gated by event time as `hetu start` gates them when it watches
// a cluster (raw input complete 1 s behind the clock; HETU_BENCH_LATENCY_GATED=0 runs them ungated).
// Figures only: nothing is asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { createLogCollector } from '@hetu/producers/logs';
import { killStaleProcesses, locateKube, SIM_MODE_LABEL, startKube } from '../infra/src/index.ts';
import { openBackend } from '../cli/src/backend.ts';
import { parseGlobalConfig } from '../cli/src/config.ts';
import { startLivePipeline } from './live.ts';
import { loads, quantile, word } from './util.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NS = 'latency';
const NODE = 'kwok-node-0';
/** The errors stage's consumer group (its processor name). */
const ERRORS_GROUP = 'errors';
const WRITER = fileURLToPath(new URL('./latency-writer.ts', import.meta.url));

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (USER_HZ 100); NaN if unknown. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** A CRI log line stamped now (as the kubelet writes it), in nanoseconds' precision. */
function cri(text: string): string {
  return `${new Date().toISOString().replace('Z', '000000Z')} stdout F ${text}\n`;
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const pods = Number(process.env.HETU_BENCH_LATENCY_PODS ?? 10);
  const rate = Number(process.env.HETU_BENCH_LATENCY_RATE ?? 1000);
  const probes = Number(process.env.HETU_BENCH_LATENCY_PROBES ?? 60);
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-latency-'));
  const files = Array.from({ length: pods }, (_, i) => join(dir, `web-${i}.log`));
  for (const f of files) writeFileSync(f, '');
  const layout = locateKube(ROOT);
  killStaleProcesses(layout.pidDir);
  const kube = await startKube({
    binDir: layout.binDir,
    pidDir: layout.pidDir,
    stagesDir: layout.stagesDir,
    logs: files.map((file, i) => ({ namespace: NS, pod: `web-${i}`, file })),
  });
  const backend = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'data'), output: 'json' }, {}));
  // Gated as `hetu start` runs its stages (cli/src/gates.ts); HETU_BENCH_LATENCY_GATED=0 without.
  const gated = process.env.HETU_BENCH_LATENCY_GATED !== '0';
  print(
    `latency: ${pods} pods, ${rate} background lines/s, ${probes} probes, stages ${gated ? 'gated by event time (as hetu start)' : 'not gated'}; load average before ${loads()}`,
  );
  let writer: ChildProcess | undefined;
  try {
    const live = await startLivePipeline(backend, NS, print, { gated });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    for (let i = 0; i < pods; i++)
      await core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: { name: `web-${i}`, labels: { app: 'web', [SIM_MODE_LABEL]: 'running' } },
          spec: { nodeName: NODE, containers: [{ name: 'web', image: 'registry.example/web:1.0' }] },
        },
      });
    const collector = createLogCollector({
      kubeconfig: kube.kubeconfig,
      cluster: 'bench',
      log: backend.log,
      serde: backend.serde,
      namespace: NS,
    });
    await collector.start();
    try {
      // The background: `rate` lines/s from a process of its own, round-robin over the pods.
      writer = spawn(process.execPath, [WRITER, String(rate), ...files], {
        stdio: ['pipe', 'pipe', 'inherit'], // stdin: closes when this process dies
      });
      let writerOut = '';
      writer.stdout!.setEncoding('utf8').on('data', (d: string) => (writerOut += d));
      const writerDone = new Promise<void>((r) => writer!.once('exit', () => r()));
      // Let the collector reach every pod and the stages settle before measuring.
      await new Promise((r) => setTimeout(r, 5000));
      // This process's CPU while the probes run: collector, stages, projections, API, subscriber.
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      // ... and the other processes' on the way: the writer, kwok (serves the files as the
      // kubelet), the API server (proxies them), etcd.
      const others = {
        writer: writer.pid,
        kwok: kube.pids.kwok,
        apiserver: kube.pids.apiserver,
        etcd: kube.pids.etcd,
      };
      const others0 = Object.fromEntries(Object.entries(others).map(([k, pid]) => [k, cpuSeconds(pid)]));
      const latencies: number[] = [];
      let lost = 0;
      for (let i = 0; i < probes; i++) {
        const token = `Probe${word(i)}`;
        const arrived = live.arrival(token);
        const sent = performance.now();
        appendFileSync(
          files[i % pods]!,
          cri(`ERROR Unhandled com.bench.${token}Exception: the ${word(i)} step failed`),
        );
        const at = await Promise.race([
          arrived,
          new Promise<number | null>((r) => setTimeout(() => r(null), 30_000)),
        ]);
        if (at === null) {
          lost++;
          live.forget(token);
        } else latencies.push(at - sent);
        const wait = 500 - (performance.now() - sent);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const cpu = process.cpuUsage(cpu0);
      const wallS = (performance.now() - wall0) / 1000;
      const cpuPercent = (100 * (cpu.user + cpu.system)) / 1e6 / wallS;
      const othersCpu = Object.fromEntries(
        Object.entries(others).map(([k, pid]) => [
          `${k}CpuPercent`,
          Math.round((100 * (cpuSeconds(pid) - others0[k]!)) / wallS),
        ]),
      );
      writer.kill('SIGTERM');
      await writerDone;
      writer = undefined;
      const [lines, seconds] = writerOut.trim().split(' ').map(Number) as [number, number];
      const achieved = lines / seconds;
      // How far the collector was behind the files, and the errors stage behind the collector,
      // when the probes ended.
      const rawLines = (await backend.log.describeTopics(['hetu.raw.logs']))[0]?.partitions.reduce(
        (a, p) => a + Number(p.high - p.low),
        0,
      );
      // Gap records (one per container already running when the collector started) are not lines.
      const gaps = collector.status().containers.reduce((a, c) => a + c.gaps, 0);
      const collectorBehind = lines + probes - ((rawLines ?? 0) - gaps);
      const [raw] = await backend.log.describeTopics(['hetu.raw.logs']);
      const committed = await backend.log.committed(ERRORS_GROUP, 'hetu.raw.logs');
      const behind = (raw?.partitions ?? []).reduce(
        (a, p) => a + Number(p.high - (committed.get(p.partition) ?? p.low)),
        0,
      );
      latencies.sort((a, b) => a - b);
      const figures = {
        probes: latencies.length,
        lost,
        backgroundLinesPerS: Math.round(achieved),
        errorsStageBehindAtEnd: behind,
        collectorBehindAtEnd: collectorBehind,
        p50Ms: Math.round(quantile(latencies, 0.5)),
        p99Ms: Math.round(quantile(latencies, 0.99)),
        maxMs: Math.round(latencies.at(-1) ?? NaN),
        cpuPercentOfACore: Math.round(cpuPercent),
        rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        ...othersCpu,
      };
      print(
        `log line written to a pod's log file → collector → errors stage → projection → graphql-ws push, with ${figures.backgroundLinesPerS} other lines/s:`,
      );
      print(
        `  p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms (${figures.probes} probes${lost ? `, ${lost} not pushed within 30 s` : ''}); at the end the collector was ${collectorBehind} lines behind the files and the errors stage ${behind} behind the collector`,
      );
      print(
        `  CPU while the probes ran, in % of a core: this process (collector, stages, projections, API, subscriber) ${figures.cpuPercentOfACore} % (RSS ${figures.rssMiB} MiB); ${Object.entries(
          othersCpu,
        )
          .map(([k, v]) => `${k.replace('CpuPercent', '')} ${v} %`)
          .join(', ')}`,
      );
      print(`load average after: ${loads()}`);
      return figures;
    } finally {
      await collector.close();
      await live.close();
    }
  } finally {
    writer?.kill('SIGKILL');
    await backend.close();
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bench((l) => console.log(l));
}
