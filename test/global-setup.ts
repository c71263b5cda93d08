/**
 * Global setup of the `int` vitest project: one Kafka broker and one schema registry per run.
 *
 * Each service comes from the first of:
 *   1. the environment: KAFKA_BROKERS (comma list) / SCHEMA_REGISTRY_URL (ending in /apis/ccompat/v7);
 *   2. HETU_TEST_DOCKER=1: testcontainers (opt-in, needs a Docker engine; CI here has none);
 *   3. the Maven-fetched broker and Apicurio in .cache/infra (`npm run infra:fetch`), started on
 *      free loopback ports, in parallel.
 * Tests read them with `inject('kafkaBrokers')` and `inject('schemaRegistryUrl')`.
 */
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { killStaleProcesses, locateInfra, startKafka, startRegistry, waitUntil } from '../infra/src/index.ts';
import type { InfraLayout } from '../infra/src/index.ts';
import { probeKafka } from '../streams/src/kafka/probe.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    schemaRegistryUrl: string;
  }
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KAFKA_READY_MS = 180_000;
const REGISTRY_READY_MS = 180_000;
const GIVEN_SERVICE_MS = 30_000;
const DOCKER_KAFKA_IMAGE = 'confluentinc/cp-kafka:8.1.0';
const DOCKER_REGISTRY_IMAGE = 'apicurio/apicurio-registry:3.3.3';

type Stop = () => Promise<void>;
interface Started<T> {
  readonly value: T;
  readonly stop: Stop | null;
}

function log(msg: string): void {
  process.stdout.write(`[global-setup] ${msg}\n`);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

async function registryAnswers(url: string): Promise<boolean> {
  const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status === 200;
}

async function dockerKafka(image: string): Promise<Started<string[]>> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(image).withStartupTimeout(KAFKA_READY_MS).start();
  const stop: Stop = async () => {
    await container.stop();
  };
  try {
    const brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
    await probeKafka(brokers, KAFKA_READY_MS);
    return { value: brokers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function dockerRegistry(image: string): Promise<Started<string>> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(image)
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080).forStatusCode(200))
    .withStartupTimeout(REGISTRY_READY_MS)
    .start();
  return {
    value: `http://${container.getHost()}:${container.getMappedPort(8080)}/apis/ccompat/v7`,
    stop: async () => {
      await container.stop();
    },
  };
}

async function kafkaService(env: NodeJS.ProcessEnv, layout: () => InfraLayout): Promise<Started<string[]>> {
  const t0 = performance.now();
  const given = env['KAFKA_BROKERS']?.trim();
  if (given) {
    const brokers = given
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    await probeKafka(brokers, GIVEN_SERVICE_MS);
    log(`Kafka: using KAFKA_BROKERS=${brokers.join(',')}`);
    return { value: brokers, stop: null };
  }
  if (env['HETU_TEST_DOCKER'] === '1') {
    const image = env['HETU_TEST_KAFKA_IMAGE'] ?? DOCKER_KAFKA_IMAGE;
    const s = await dockerKafka(image);
    log(`Kafka: ${image} in Docker at ${s.value.join(',')}, ready in ${seconds(t0)}`);
    return s;
  }
  const l = layout();
  const k = await startKafka({
    libsDir: l.kafkaLibs,
    pidDir: l.pidDir,
    heapMb: 512,
    readyTimeoutMs: KAFKA_READY_MS,
    probe: probeKafka,
  });
  log(
    `Kafka ${l.kafkaVersion}: ${k.brokers.join(',')} (pid ${k.pid}), ready in ${seconds(t0)}; log ${k.logFile}`,
  );
  return { value: k.brokers, stop: () => k.stop() };
}

async function registryService(env: NodeJS.ProcessEnv, layout: () => InfraLayout): Promise<Started<string>> {
  const t0 = performance.now();
  const given = env['SCHEMA_REGISTRY_URL']?.trim().replace(/\/+$/, '');
  if (given) {
    await waitUntil(`schema registry at ${given}`, () => registryAnswers(given), {
      timeoutMs: GIVEN_SERVICE_MS,
    });
    log(`Schema registry: using SCHEMA_REGISTRY_URL=${given}`);
    return { value: given, stop: null };
  }
  if (env['HETU_TEST_DOCKER'] === '1') {
    const image = env['HETU_TEST_REGISTRY_IMAGE'] ?? DOCKER_REGISTRY_IMAGE;
    const s = await dockerRegistry(image);
    log(`Schema registry: ${image} in Docker at ${s.value}, ready in ${seconds(t0)}`);
    return s;
  }
  const l = layout();
  const r = await startRegistry({
    home: l.apicurioHome,
    java: l.apicurioJava,
    pidDir: l.pidDir,
    heapMb: 384,
    readyTimeoutMs: REGISTRY_READY_MS,
  });
  log(
    `Apicurio Registry ${l.apicurioVersion}: ${r.url} (pid ${r.pid}), ready in ${seconds(t0)}; log ${r.logFile}`,
  );
  return { value: r.url, stop: () => r.stop() };
}

async function stopAll(stops: Stop[]): Promise<void> {
  const results = await Promise.allSettled(stops.map((s) => s()));
  for (const r of results) {
    if (r.status === 'rejected')
      log(`stop failed: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env;
  let cached: InfraLayout | null = null;
  let notFetched: unknown = null;
  const layout = (): InfraLayout => {
    if (cached) return cached;
    if (notFetched) throw notFetched; // the same error object, reported once
    try {
      cached = locateInfra(ROOT);
    } catch (err) {
      notFetched = err;
      throw err;
    }
    const killed = killStaleProcesses(cached.pidDir);
    for (const k of killed) log(`killed stale ${k.name} (pid ${k.pid}) left by an earlier run`);
    return cached;
  };
  const t0 = performance.now();
  const [kafka, registry] = await Promise.allSettled([
    kafkaService(env, layout),
    registryService(env, layout),
  ]);
  const stops: Stop[] = [];
  for (const r of [kafka, registry]) if (r.status === 'fulfilled' && r.value.stop) stops.push(r.value.stop);
  if (kafka.status === 'rejected' || registry.status === 'rejected') {
    await stopAll(stops);
    const errors = [
      ...new Set([kafka, registry].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))),
    ];
    if (errors.length === 1) throw errors[0];
    throw new AggregateError(
      errors,
      errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'),
    );
  }
  log(`services ready in ${seconds(t0)}`);
  project.provide('kafkaBrokers', kafka.value.value);
  project.provide('schemaRegistryUrl', registry.value.value);

  return async () => {
    const t1 = performance.now();
    await stopAll(stops);
    if (stops.length > 0) log(`services stopped in ${seconds(t1)}`);
  };
}
