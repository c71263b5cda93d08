export {
  DEFAULT_METRICS_INTERVAL_MS,
  DEFAULT_QUERY_CONCURRENCY,
  DEFAULT_QUERY_TIMEOUT_MS,
  METRICS_TOPIC,
  alignedEvaluationTime,
  createMetricsCollector,
  samplesFromVector,
} from './collector.ts';
export type {
  CollectResult,
  MappedSamples,
  MetricQueryStatus,
  MetricsCollector,
  MetricsCollectorOptions,
  MetricsCollectorStatus,
  PromVectorSample,
  QueryState,
} from './collector.ts';
export {
  DEFAULT_METRIC_QUERIES,
  METRIC_LABELS,
  METRIC_LABEL_VALUES,
  METRIC_NAMES,
  resolveMetricQueries,
} from './queries.ts';
export type { MetricName, MetricQueryOverrides } from './queries.ts';
