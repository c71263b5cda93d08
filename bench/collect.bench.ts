// The Kubernetes collector on a 10 000-pod cluster (issue G, "bench: 10 000 pods, memory of each
// collector"): the real API server + kwok from `npm run infra:fetch`; pods created through the API
// (HETU_BENCH_PODS, default 10 000), then one collector lists and watches them into an embedded
// log. Prints the time until the collector has appended every pod, observations/s, and this
// process's RSS before and at the peak (sampled every 100 ms; the process holds only the
// collector, its embedded log and the API client). Figures only: nothing is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { createKubeCollector } from '@hetu/producers/kube';
import { killStaleProcesses, locateKube, startKube } from '../infra/src/index.ts';
import { createCatalogueTopics, openBackend } from '../cli/src/backend.ts';
import { parseGlobalConfig } from '../cli/src/config.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MIB = 1024 * 1024;

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const pods = Number(process.env.HETU_BENCH_PODS ?? 10_000);
  const layout = locateKube(ROOT);
  killStaleProcesses(layout.pidDir);
  const kube = await startKube({ binDir: layout.binDir, pidDir: layout.pidDir, stagesDir: layout.stagesDir });
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-collect-'));
  const backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
  print(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  try {
    await createCatalogueTopics(backend.log);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'bench' } } });
    let t = performance.now();
    for (let i = 0; i < pods; i += 50)
      await Promise.all(
        Array.from({ length: Math.min(50, pods - i) }, (_, j) =>
          core.createNamespacedPod({
            namespace: 'bench',
            body: {
              metadata: { name: `p-${i + j}`, labels: { app: `w-${(i + j) % 200}` } },
              spec: {
                nodeName: kube.nodes[0]!,
                containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
              },
            },
          }),
        ),
      );
    print(`${pods} pods created through the API in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    t = performance.now();
    const collector = createKubeCollector({
      kubeConfig: kc,
      cluster: 'bench',
      log: backend.log,
      serde: backend.serde,
    });
    await collector.start();
    await collector.flushed();
    const listed = (performance.now() - t) / 1000;
    clearInterval(sampler);
    const status = collector.status();
    const podKind = status.kinds.find((k) => k.kind === 'Pod')!;
    await collector.close();
    const figures = {
      pods,
      podsCached: podKind.objects,
      appended: status.appended,
      listSeconds: Math.round(listed * 10) / 10,
      observationsPerS: Math.round(status.appended / listed),
      rssBeforeMiB: Math.round(before / MIB),
      rssPeakMiB: Math.round(peak / MIB),
    };
    print(
      `collector: first list of every kind and every observation appended in ${figures.listSeconds} s (${figures.appended} observations, ${figures.observationsPerS}/s), ${figures.podsCached} pods cached`,
    );
    print(
      `RSS of this process: ${figures.rssBeforeMiB} MiB before the collector, ${figures.rssPeakMiB} MiB at the peak`,
    );
    print(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    return figures;
  } finally {
    await backend.close();
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
