export { startKafka, makeClusterId, kafkaServerProperties } from './kafka.ts';
export type { KafkaOptions, KafkaHandle } from './kafka.ts';
export { startRegistry } from './registry.ts';
export type { RegistryOptions, RegistryHandle } from './registry.ts';
export { locateInfra, infraVersions } from './locate.ts';
export { parseExposition } from './exposition.ts';
export type { Sample } from './exposition.ts';
export type { InfraLayout } from './locate.ts';
export {
  InfraError,
  startProcess,
  killStaleProcesses,
  waitUntil,
  tailFile,
  freePort,
  freePorts,
  isPortClash,
  retryOnPortClash,
} from './supervisor.ts';
export type { ProcessSpec, SupervisedProcess, WaitOptions } from './supervisor.ts';
export {
  startKube,
  locateKube,
  kubeVersions,
  kubeRequest,
  kwokLogsConfig,
  SIM_MODE_LABEL,
  SIM_ANNOTATIONS,
} from './kube.ts';
export type {
  KubeOptions,
  KubeHandle,
  KubeConnection,
  KubeLayout,
  KubeLogSource,
  KubeResponse,
  SimMode,
} from './kube.ts';
export { startPrometheus, locatePrometheus, prometheusConfig } from './prometheus.ts';
export type { PrometheusOptions, PrometheusHandle, PrometheusLayout, PromSample } from './prometheus.ts';
export { startExporterFixture, hetuExampleMetrics, renderMetrics } from './exporter-fixture.ts';
export type { ExporterFixture, MetricFamily, MetricSample, MetricType } from './exporter-fixture.ts';
