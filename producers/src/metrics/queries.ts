/**
 * SPEC §1's metric vocabulary: each name's labels, and the PromQL the collector evaluates for it.
 *
 * Every default query aggregates to exactly the vocabulary's labels, so one result series is one
 * hetu series. Windows are 5 m (SPEC: "over 1m–5m"; 5 m gives at least ten scrapes at the usual
 * 30 s scrape interval, so one missed scrape does not empty a rate). Override any entry with the
 * collector's `queries` option (`null` switches an entry off).
 *
 * | name | labels | default PromQL (source series) |
 * |---|---|---|
 * | `cpu_usage_cores` | namespace, pod, container | `sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!="", container!="POD"}[5m]))` |
 * | `memory_working_set_bytes` | namespace, pod, container | `max by (namespace, pod, container) (container_memory_working_set_bytes{container!="", container!="POD"})` (max: cAdvisor may briefly serve a restarted container twice) |
 * | `cpu_throttled_ratio` | namespace, pod, container | `sum by (…) (rate(container_cpu_cfs_throttled_periods_total{…}[5m])) / sum by (…) (rate(container_cpu_cfs_periods_total{…}[5m]))` (no CPU limit: no CFS series, no sample) |
 * | `http_request_rate` | namespace, service | `sum by (namespace, service) (rate(http_requests_total[5m]))` |
 * | `http_error_ratio` | namespace, service | `(sum by (namespace, service) (rate(http_requests_total{code=~"5.."}[5m])) or <total> * 0) / <total>`, `<total>` = the request rate: a service that served no 5xx at all gets 0, not no sample |
 * | `http_p95_latency_seconds` | namespace, service | `histogram_quantile(0.95, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket[5m])))` |
 * | `node_cpu_utilisation` | node | `1 - sum by (node) (rate(node_cpu_seconds_total{mode="idle"}[5m])) / sum by (node) (rate(node_cpu_seconds_total[5m]))` (idle share of all modes, any number of CPUs) |
 * | `node_memory_utilisation` | node | `1 - sum by (node) (node_memory_MemAvailable_bytes) / sum by (node) (node_memory_MemTotal_bytes)` |
 * | `pvc_used_bytes` | namespace, persistentvolumeclaim | `max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes)` |
 * | `pvc_capacity_bytes` | namespace, persistentvolumeclaim | `max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes)` |
 * | `coredns_nxdomain_ratio` | — | `(sum(rate(coredns_dns_responses_total{rcode="NXDOMAIN"}[5m])) or vector(0)) / sum(rate(coredns_dns_responses_total[5m]))` |
 * | `coredns_cache_hit_ratio` | — | `sum(rate(coredns_cache_hits_total[5m])) / (sum(rate(coredns_cache_hits_total[5m])) + sum(rate(coredns_cache_misses_total[5m])))` |
 * | `gc_pause_seconds` | namespace, pod, runtime | Go: `rate(go_gc_duration_seconds_sum[5m]) / rate(go_gc_duration_seconds_count[5m])` summed by (namespace, pod), `runtime="go"`; `or` JVM (Micrometer): the same over `jvm_gc_pause_seconds_{sum,count}`, `runtime="jvm"`. No collection in the window: 0 ÷ 0 = NaN, skipped and counted |
 *
 * Label names are the ones the sources use in kube-prometheus (cAdvisor and kubelet through the
 * kubelet job, node-exporter relabelled with `node`); a cluster that labels differently overrides
 * the query and maps its labels with PromQL (`label_replace`, `sum by`).
 */

import { HetuError } from '@hetu/streams';

/** The names of SPEC §1's metric vocabulary, in the order the collector evaluates them. */
export const METRIC_NAMES = [
  'cpu_usage_cores',
  'memory_working_set_bytes',
  'cpu_throttled_ratio',
  'http_request_rate',
  'http_error_ratio',
  'http_p95_latency_seconds',
  'node_cpu_utilisation',
  'node_memory_utilisation',
  'pvc_used_bytes',
  'pvc_capacity_bytes',
  'coredns_nxdomain_ratio',
  'coredns_cache_hit_ratio',
  'gc_pause_seconds',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

const CONTAINER = ['namespace', 'pod', 'container'] as const;
const SERVICE = ['namespace', 'service'] as const;

/** Each name's labels (SPEC §1): a sample carries exactly these, every one non-empty. */
export const METRIC_LABELS: Readonly<Record<MetricName, readonly string[]>> = {
  cpu_usage_cores: CONTAINER,
  memory_working_set_bytes: CONTAINER,
  cpu_throttled_ratio: CONTAINER,
  http_request_rate: SERVICE,
  http_error_ratio: SERVICE,
  http_p95_latency_seconds: SERVICE,
  node_cpu_utilisation: ['node'],
  node_memory_utilisation: ['node'],
  pvc_used_bytes: ['namespace', 'persistentvolumeclaim'],
  pvc_capacity_bytes: ['namespace', 'persistentvolumeclaim'],
  coredns_nxdomain_ratio: [],
  coredns_cache_hit_ratio: [],
  gc_pause_seconds: ['namespace', 'pod', 'runtime'],
};

/** Values a label may take, where the vocabulary restricts it. */
export const METRIC_LABEL_VALUES: Readonly<
  Partial<Record<MetricName, Readonly<Record<string, readonly string[]>>>>
> = {
  gc_pause_seconds: { runtime: ['go', 'jvm'] },
};

const CADVISOR = '{container!="", container!="POD"}';
const BY_CONTAINER = 'sum by (namespace, pod, container)';
const HTTP_TOTAL = 'sum by (namespace, service) (rate(http_requests_total[5m]))';
const gcAverage = (sum: string, count: string, runtime: string): string =>
  `label_replace(sum by (namespace, pod) (rate(${sum}[5m])) / sum by (namespace, pod) (rate(${count}[5m])), "runtime", "${runtime}", "", "")`;

/** The default PromQL per name (see the table above). */
export const DEFAULT_METRIC_QUERIES: Readonly<Record<MetricName, string>> = {
  cpu_usage_cores: `${BY_CONTAINER} (rate(container_cpu_usage_seconds_total${CADVISOR}[5m]))`,
  memory_working_set_bytes: `max by (namespace, pod, container) (container_memory_working_set_bytes${CADVISOR})`,
  cpu_throttled_ratio:
    `${BY_CONTAINER} (rate(container_cpu_cfs_throttled_periods_total${CADVISOR}[5m]))` +
    ` / ${BY_CONTAINER} (rate(container_cpu_cfs_periods_total${CADVISOR}[5m]))`,
  http_request_rate: HTTP_TOTAL,
  http_error_ratio:
    `(sum by (namespace, service) (rate(http_requests_total{code=~"5.."}[5m])) or ${HTTP_TOTAL} * 0)` +
    ` / ${HTTP_TOTAL}`,
  http_p95_latency_seconds:
    'histogram_quantile(0.95, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket[5m])))',
  node_cpu_utilisation:
    '1 - sum by (node) (rate(node_cpu_seconds_total{mode="idle"}[5m])) / sum by (node) (rate(node_cpu_seconds_total[5m]))',
  node_memory_utilisation:
    '1 - sum by (node) (node_memory_MemAvailable_bytes) / sum by (node) (node_memory_MemTotal_bytes)',
  pvc_used_bytes: 'max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes)',
  pvc_capacity_bytes: 'max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes)',
  coredns_nxdomain_ratio:
    '(sum(rate(coredns_dns_responses_total{rcode="NXDOMAIN"}[5m])) or vector(0)) / sum(rate(coredns_dns_responses_total[5m]))',
  coredns_cache_hit_ratio:
    'sum(rate(coredns_cache_hits_total[5m])) / (sum(rate(coredns_cache_hits_total[5m])) + sum(rate(coredns_cache_misses_total[5m])))',
  gc_pause_seconds:
    `${gcAverage('go_gc_duration_seconds_sum', 'go_gc_duration_seconds_count', 'go')}` +
    ` or ${gcAverage('jvm_gc_pause_seconds_sum', 'jvm_gc_pause_seconds_count', 'jvm')}`,
};

/** Query overrides: a string replaces the default PromQL of a name, `null` switches the name off. */
export type MetricQueryOverrides = Readonly<Partial<Record<MetricName, string | null>>>;

/** The queries to evaluate, in vocabulary order, after overrides. Throws for a name not in the vocabulary. */
export function resolveMetricQueries(
  overrides: MetricQueryOverrides = {},
): { readonly name: MetricName; readonly query: string }[] {
  for (const name of Object.keys(overrides)) {
    if (!(METRIC_NAMES as readonly string[]).includes(name)) {
      throw new HetuError(
        'HETU_METRICS_UNKNOWN_NAME',
        `Metric query override for "${name}": not a name of hetu's metric vocabulary; use one of ${METRIC_NAMES.join(', ')}.`,
      );
    }
  }
  const out: { name: MetricName; query: string }[] = [];
  for (const name of METRIC_NAMES) {
    const q = name in overrides ? overrides[name] : DEFAULT_METRIC_QUERIES[name];
    if (q === null || q === undefined) continue;
    out.push({ name, query: q });
  }
  return out;
}
