export { startKafka, makeClusterId, kafkaServerProperties } from './kafka.ts';
export type { KafkaOptions, KafkaHandle } from './kafka.ts';
export { startRegistry } from './registry.ts';
export type { RegistryOptions, RegistryHandle } from './registry.ts';
export { locateInfra, infraVersions } from './locate.ts';
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
