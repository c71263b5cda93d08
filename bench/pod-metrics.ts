// The series a Prometheus holds for a cluster of `pods` pods, for the metrics collector's bench:
// every source series of SPEC §1's vocabulary (producers/src/metrics/queries.ts), per pod where
// the sources are per pod. Served by the exporter fixture (infra/src/exporter-fixture.ts) and
// scraped by a real Prometheus; counters grow with `t` (seconds), so every rate and ratio the
// collector evaluates is finite and each query gives a known number of series.
import type { MetricFamily, MetricSample } from '../infra/src/index.ts';

export const BENCH_NAMESPACE = 'bench';

/** How many services, nodes and PVCs a cluster of `pods` pods has here. */
export function benchShape(pods: number): { services: number; nodes: number; pvcs: number } {
  return {
    services: Math.max(1, Math.ceil(pods / 50)),
    nodes: Math.max(1, Math.ceil(pods / 100)),
    pvcs: Math.max(1, Math.ceil(pods / 10)),
  };
}

/**
 * Samples per collector cycle: per container cpu_usage_cores, memory_working_set_bytes,
 * cpu_throttled_ratio; per pod gc_pause_seconds; per service the three http names; per node the
 * two node names; per PVC the two pvc names; the two CoreDNS ratios.
 */
export function expectedSamplesPerCycle(pods: number): number {
  const s = benchShape(pods);
  return 4 * pods + 3 * s.services + 2 * s.nodes + 2 * s.pvcs + 2;
}

/** The families served at `t` seconds after the fixture started (counters = rate × t). */
export function podMetricFamilies(pods: number, t: number): MetricFamily[] {
  const s = benchShape(pods);
  const ns = BENCH_NAMESPACE;
  const cpu: MetricSample[] = [];
  const mem: MetricSample[] = [];
  const periods: MetricSample[] = [];
  const throttled: MetricSample[] = [];
  const requests: MetricSample[] = [];
  const gc: MetricSample[] = [];
  for (let i = 0; i < pods; i++) {
    const pod = `p-${i}`;
    const c = { namespace: ns, pod, container: 'app', image: 'registry.example/app:1.0' };
    cpu.push({ labels: c, value: t * (0.01 + (i % 7) * 0.01) });
    // cAdvisor's pod-level cgroup: dropped by the query's container!=""
    cpu.push({ labels: { namespace: ns, pod, container: '' }, value: t * 0.1 });
    mem.push({ labels: c, value: 64 * 2 ** 20 + (i % 100) * 2 ** 20 });
    periods.push({ labels: c, value: t * 10 });
    throttled.push({ labels: c, value: t * (i % 4) });
    const service = `s-${i % s.services}`;
    requests.push({ labels: { namespace: ns, service, pod, code: '200' }, value: t * 5 });
    requests.push({ labels: { namespace: ns, service, pod, code: '503' }, value: t * (i % 3) * 0.1 });
    gc.push({ labels: { namespace: ns, pod, quantile: '0.5' }, value: 0.0002 });
    gc.push({ suffix: '_sum', labels: { namespace: ns, pod }, value: t * 0.001 });
    gc.push({ suffix: '_count', labels: { namespace: ns, pod }, value: t * 2 });
  }
  const latency: MetricSample[] = [];
  for (let j = 0; j < s.services; j++) {
    const l = { namespace: ns, service: `s-${j}` };
    for (const [le, share] of [
      ['0.1', 0.6],
      ['0.25', 0.9],
      ['0.5', 0.98],
      ['1', 1],
      ['+Inf', 1],
    ] as const)
      latency.push({ suffix: '_bucket', labels: { ...l, le }, value: t * 250 * share });
    latency.push({ suffix: '_sum', labels: l, value: t * 45 });
    latency.push({ suffix: '_count', labels: l, value: t * 250 });
  }
  const nodeCpu: MetricSample[] = [];
  const avail: MetricSample[] = [];
  const total: MetricSample[] = [];
  for (let n = 0; n < s.nodes; n++) {
    const node = `kwok-node-${n}`;
    nodeCpu.push({ labels: { node, cpu: '0', mode: 'idle' }, value: t * 0.7 });
    nodeCpu.push({ labels: { node, cpu: '0', mode: 'user' }, value: t * 0.3 });
    avail.push({ labels: { node }, value: 4 * 2 ** 30 });
    total.push({ labels: { node }, value: 16 * 2 ** 30 });
  }
  const used: MetricSample[] = [];
  const capacity: MetricSample[] = [];
  for (let v = 0; v < s.pvcs; v++) {
    const l = { namespace: ns, persistentvolumeclaim: `data-${v}` };
    used.push({ labels: l, value: 2 ** 30 + v });
    capacity.push({ labels: l, value: 10 * 2 ** 30 });
  }
  const dns = { server: 'dns://:53', zone: '.' };
  return [
    { name: 'container_cpu_usage_seconds_total', type: 'counter', help: 'cpu', samples: cpu },
    { name: 'container_memory_working_set_bytes', type: 'gauge', help: 'memory', samples: mem },
    { name: 'container_cpu_cfs_periods_total', type: 'counter', help: 'periods', samples: periods },
    {
      name: 'container_cpu_cfs_throttled_periods_total',
      type: 'counter',
      help: 'throttled',
      samples: throttled,
    },
    { name: 'http_requests_total', type: 'counter', help: 'requests', samples: requests },
    { name: 'http_request_duration_seconds', type: 'histogram', help: 'latency', samples: latency },
    { name: 'node_cpu_seconds_total', type: 'counter', help: 'node cpu', samples: nodeCpu },
    { name: 'node_memory_MemAvailable_bytes', type: 'gauge', help: 'available', samples: avail },
    { name: 'node_memory_MemTotal_bytes', type: 'gauge', help: 'total', samples: total },
    { name: 'kubelet_volume_stats_used_bytes', type: 'gauge', help: 'used', samples: used },
    { name: 'kubelet_volume_stats_capacity_bytes', type: 'gauge', help: 'capacity', samples: capacity },
    {
      name: 'coredns_dns_responses_total',
      type: 'counter',
      help: 'responses',
      samples: [
        { labels: { ...dns, rcode: 'NOERROR' }, value: t * 90 },
        { labels: { ...dns, rcode: 'NXDOMAIN' }, value: t * 10 },
      ],
    },
    {
      name: 'coredns_cache_hits_total',
      type: 'counter',
      help: 'hits',
      samples: [{ labels: { server: 'dns://:53', type: 'success' }, value: t * 40 }],
    },
    {
      name: 'coredns_cache_misses_total',
      type: 'counter',
      help: 'misses',
      samples: [{ labels: { server: 'dns://:53' }, value: t * 60 }],
    },
    { name: 'go_gc_duration_seconds', type: 'summary', help: 'gc', samples: gc },
  ];
}
